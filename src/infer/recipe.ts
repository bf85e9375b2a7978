// The inference recipe (`inference.json` in a model folder), written by find-best and read by predict
// when no configuration is named: which configurations to ensemble (all their folds), and the
// post-processing chosen on the cross-validation.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { z } from 'zod';
import { readJsonFile } from '../io/jsonFile.js';
import { configurationNameSchema } from '../plan/schema.js';
import type { PostprocessingRecipe } from '../labelmap/postprocessing.js';
import { CHECKPOINT_NAMES } from '../train/checkpointChoice.js';

// Dice values absent on every case are NaN in memory and null in JSON: read back as NaN.
const diceOrNaN = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .transform((v) => v ?? NaN);
const meanDiceSchema = z.object({ before: diceOrNaN, after: diceOrNaN });

export const postprocessingSchema: z.ZodType<PostprocessingRecipe> = z.object({
  foreground: z.boolean(),
  perLabel: z.record(z.string().regex(/^\d+$/), z.boolean()),
  dice: meanDiceSchema,
  diceByLabel: z.record(z.string(), meanDiceSchema),
  connectivity: z.literal([6, 18, 26]),
});

export const candidateScoreSchema = z.object({
  /** Configurations averaged (one: a single configuration). */
  members: z.array(configurationNameSchema).min(1),
  /** Mean over foreground labels of the mean over cases of Dice (out-of-fold); null: no label anywhere. */
  meanDice: z.number().min(0).max(1).nullable(),
  /** Per label value (string key): mean over cases of Dice; null where no case has the label. */
  dicePerLabel: z.record(z.string(), z.number().min(0).max(1).nullable()),
});
export type CandidateScore = z.infer<typeof candidateScoreSchema>;

/**
 * How the post-processing was chosen, and why: find-best's rule on the out-of-fold predictions of every
 * fold ('cross-validation'), the same rule on the validation cases of the folds a run trained
 * ('validation', src/evaluate/singleRunRecipe.ts), or, with no independent validation case, the prior
 * from the training labels ('training-labels', src/postprocess/prior.ts).
 */
export const postprocessingChoiceSchema = z.strictObject({
  rule: z.enum(['cross-validation', 'validation', 'training-labels']),
  /** Cases the choice looked at (predictions scored, or training label maps for the prior). */
  cases: z.int().min(0),
  why: z.string(),
});
export type PostprocessingChoice = z.infer<typeof postprocessingChoiceSchema>;

// Users may edit the recipe (drop a configuration, turn post-processing off): unknown fields are
// refused rather than ignored, so that a misspelt one does not silently do nothing.
export const inferenceRecipeSchema = z.strictObject({
  version: z.literal(1),
  configurations: z.array(configurationNameSchema).min(1),
  folds: z.array(z.int().min(0)).min(1),
  checkpoint: z.enum(CHECKPOINT_NAMES),
  postprocessing: postprocessingSchema.nullable(),
  /** Every candidate compared, best first. */
  candidates: z.array(candidateScoreSchema),
  /** Out-of-fold cases the comparison used. */
  cases: z.int().min(0),
  /** How the post-processing was chosen (absent in recipes written before it was recorded: find-best's). */
  postprocessingChoice: postprocessingChoiceSchema.optional(),
});
export type InferenceRecipe = z.infer<typeof inferenceRecipeSchema>;

export const recipeFile = (modelDir: string) => path.join(modelDir, 'inference.json');

export async function writeRecipe(modelDir: string, r: InferenceRecipe): Promise<string> {
  const file = recipeFile(modelDir);
  await writeFileAtomic(file, JSON.stringify(r, null, 2));
  return file;
}

/** The recipe of a model folder, or null when find-best has not run; a malformed one is an error. */
export async function readRecipe(modelDir: string): Promise<InferenceRecipe | null> {
  const file = recipeFile(modelDir);
  if (!existsSync(file)) return null;
  return readJsonFile(file, inferenceRecipeSchema);
}

/** The steps of a post-processing recipe in words ('none' when it has none). */
export function describePostprocessing(pp: PostprocessingRecipe | null): string {
  const steps = pp
    ? [
        ...(pp.foreground ? ['largest foreground component'] : []),
        ...Object.entries(pp.perLabel)
          .filter(([, on]) => on)
          .map(([l]) => `largest component of label ${l}`),
      ]
    : [];
  return steps.length ? steps.join(', ') : 'none';
}
