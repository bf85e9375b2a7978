// The inference recipe (`inference.json` in a model folder), written by find-best and read by predict
// when no configuration is named: which configurations to ensemble (all their folds), and the
// post-processing chosen on the cross-validation.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import type { PostprocessingRecipe } from '../labelmap/postprocessing.js';

export interface CandidateScore {
  /** Configurations averaged (one: a single configuration). */
  members: ConfigurationName[];
  /** Mean over foreground labels of the mean over cases of Dice (out-of-fold); null: no label anywhere. */
  meanDice: number | null;
  /** Per label value (string key): mean over cases of Dice; null where no case has the label. */
  dicePerLabel: Record<string, number | null>;
}

export interface InferenceRecipe {
  version: 1;
  configurations: ConfigurationName[];
  folds: number[];
  checkpoint: 'best' | 'latest';
  postprocessing: PostprocessingRecipe | null;
  /** Every candidate compared, best first. */
  candidates: CandidateScore[];
  /** Out-of-fold cases the comparison used. */
  cases: number;
}

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
  let r: InferenceRecipe;
  try {
    r = JSON.parse(await readFile(file, 'utf8')) as InferenceRecipe;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const bad = (why: string) => new Error(`${file}: ${why}`);
  if (!Array.isArray(r.configurations) || !r.configurations.length) throw bad('no configurations');
  for (const c of r.configurations)
    if (!CONFIGURATION_NAMES.includes(c)) throw bad(`unknown configuration '${String(c)}'`);
  if (!Array.isArray(r.folds) || !r.folds.every((f) => Number.isInteger(f) && f >= 0))
    throw bad('folds must be a list of fold numbers');
  return r;
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
