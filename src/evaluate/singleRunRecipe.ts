// The inference recipe of a run that did not cross-validate (a budgeted `train` of one fold, or
// folds still missing): what a user who cannot afford 5 folds gets instead of find-best.
//
// The rule, in order:
//  1. Folds: the fold just trained plus every other fold of the configuration whose out-of-fold
//     predictions are up to date (finished and validated); predict ensembles them.
//  2. Validation cases: those folds' validation cases that are not among their own training cases
//     (a dataset of one case validates on its training case: that says nothing about false
//     positives). With at least one, the post-processing is chosen with find-best's own rule
//     (src/postprocess/choose.ts) on their predictions: rule 'validation'. A step that changes none
//     of them (a tie: few cases often have no far false positive to remove) is decided by the prior
//     of step 3 instead of being left off, as find-best leaves it over a whole cross-validation.
//  3. With none (`--no-validation`, a one-case dataset), the prior from the training labels of those
//     folds (src/postprocess/prior.ts): rule 'training-labels'.
// The recipe goes where find-best writes its own (MODEL/inference.json), so `predict` applies it;
// a recipe written by find-best (cross-validation over all folds) is never replaced by this one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tidy } from '../engine/index.js';
import { readImage } from '../io/image.js';
import { readDataset } from '../dataset/read.js';
import type { Dataset } from '../dataset/types.js';
import type { ConfigurationName } from '../plan/planner.js';
import { readPlans } from '../plan/schema.js';
import { labelsToTensor, labelsToVolume } from '../grid/volumeTensor.js';
import {
  decidePostprocessing,
  decidePostprocessingPrior,
  labelSelfRows,
  postprocessingDice,
  type CaseDiceRows,
  type LabelArray,
  type PriorChoice,
} from '../postprocess/index.js';

import { nanMean } from '../common/stats.js';
import { predictedValues, writtenByRegions } from '../labelmap/regions.js';
import { readSplits, type Split } from '../train/splits.js';
import { oofLabelFile, readOutOfFoldSummary, validationDir } from '../train/outOfFold.js';
import { DEFAULT_CHECKPOINT, otherCheckpoint, type CheckpointName } from '../train/checkpointChoice.js';
import {
  readRecipe,
  recipeFile,
  writeRecipe,
  describePostprocessing,
  type InferenceRecipe,
} from '../infer/recipe.js';

export interface SingleRunRecipeOptions {
  /** The dataset folder, or the dataset as read. */
  dataset: string | Dataset;
  modelDir: string;
  config: ConfigurationName;
  /** The fold just trained (always in the recipe, validated or not). */
  fold: number;
  /** The prior's tolerance (src/postprocess/prior.ts; default 0.02). */
  tolerance?: number;
  log?: (s: string) => void;
}

export type SingleRunRecipeResult =
  { written: true; recipe: InferenceRecipe; file: string } | { written: false; reason: string };

/** A label map as the [z, y, x] array the post-processing works on. */
async function readLabelMap(file: string): Promise<{ data: LabelArray; shape: number[] }> {
  const vol = await readImage(file);
  const data = labelsToVolume(
    tidy(() => labelsToTensor(vol, file)),
    vol,
  ).data as LabelArray;
  return { data, shape: [vol.shape[2] ?? 1, vol.shape[1]!, vol.shape[0]!] };
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Mean Dice of the raw predictions: per label over cases, and over labels (null where NaN). */
function rawMeans(
  rows: readonly CaseDiceRows[],
  labels: readonly number[],
): { mean: number | null; perLabel: Record<string, number | null> } {
  const per = labels.map((_, j) => nanMean(Float64Array.from(rows, (r) => r.raw[j]!)));
  return {
    mean: orNull(nanMean(Float64Array.from(per))),
    perLabel: Object.fromEntries(labels.map((l, j) => [String(l), orNull(per[j]!)])),
  };
}

/** The validation cases of `folds` that the fold did not train on, with their fold. */
export function independentValidationCases(
  splits: readonly Split[],
  folds: readonly number[],
): { id: string; fold: number }[] {
  return folds.flatMap((f) => {
    const train = new Set(splits[f]!.train);
    return splits[f]!.val.filter((id) => !train.has(id)).map((id) => ({ id, fold: f }));
  });
}

/** The prior of src/postprocess/prior.ts on the training labels of `folds`. */
async function trainingLabelPrior(
  folds: readonly number[],
  splits: readonly Split[],
  labels: readonly number[],
  reference: (id: string) => Promise<{ data: LabelArray; shape: number[] }>,
  tolerance: number | undefined,
): Promise<PriorChoice> {
  const train = [...new Set(folds.flatMap((f) => splits[f]!.train))].sort();
  const rows: CaseDiceRows[] = [];
  for (const id of train) {
    const ref = await reference(id);
    rows.push(labelSelfRows({ label: ref.data, shape: ref.shape }, labels));
  }
  return decidePostprocessingPrior(rows, labels, { tolerance });
}

/** Chooses and writes the recipe (see the header); leaves a find-best recipe alone. */
export async function writeSingleRunRecipe(o: SingleRunRecipeOptions): Promise<SingleRunRecipeResult> {
  const log = o.log ?? (() => {});
  const existing = existsSync(recipeFile(o.modelDir)) ? await readRecipe(o.modelDir) : null;
  const rule = existing?.postprocessingChoice?.rule;
  if (existing && (rule === undefined || rule === 'cross-validation')) {
    const reason = `${recipeFile(o.modelDir)} was written by find-best (cross-validation): kept`;
    log(reason);
    return { written: false, reason };
  }
  const plans = await readPlans(path.join(o.modelDir, 'plans.json'));
  const splits = await readSplits(path.join(o.modelDir, 'splits.json'));
  if (!Number.isInteger(o.fold) || o.fold < 0 || o.fold >= splits.length)
    throw new RangeError(`fold ${o.fold}: splits.json has folds 0..${splits.length - 1}`);
  // the recipe predicts with the checkpoint that predicted this fold's validation cases; folds
  // validated with the other one were judged on other weights and stay out
  const validatedWith = new Map<number, CheckpointName>();
  for (let f = 0; f < splits.length; f++) {
    const summary = await readOutOfFoldSummary(o.modelDir, o.config, f);
    if (summary) validatedWith.set(f, summary.checkpoint);
  }
  const checkpoint = validatedWith.get(o.fold) ?? DEFAULT_CHECKPOINT;
  const validated = [...validatedWith].filter(([, c]) => c === checkpoint).map(([f]) => f);
  const other = [...validatedWith].filter(([, c]) => c !== checkpoint).map(([f]) => f);
  if (other.length)
    log(
      `inference recipe: fold(s) ${other.join(', ')} left out: validated with checkpoint_${otherCheckpoint(checkpoint)}, fold ${o.fold} with checkpoint_${checkpoint}`,
    );
  const folds = [...new Set([o.fold, ...validated])].sort((a, b) => a - b);
  // a region-based model writes each region's value: references are compared in those values
  const regions = plans.regions;
  const labels = predictedValues(plans);
  const dataset = typeof o.dataset === 'string' ? await readDataset(o.dataset) : o.dataset;
  const byId = new Map(dataset.training.map((c) => [c.id, c]));
  const reference = async (id: string): Promise<{ data: LabelArray; shape: number[] }> => {
    const c = byId.get(id);
    if (!c?.label) throw new Error(`${dataset.root}: case ${id} (in splits.json) has no reference label map`);
    const ref = await readLabelMap(c.label);
    return regions ? { ...ref, data: writtenByRegions(ref.data, regions) } : ref;
  };
  const cases = independentValidationCases(
    splits,
    folds.filter((f) => validated.includes(f)),
  );
  let postprocessing: InferenceRecipe['postprocessing'];
  let choice: NonNullable<InferenceRecipe['postprocessingChoice']>;
  let candidates: InferenceRecipe['candidates'] = [];
  if (cases.length > 0) {
    const rows: CaseDiceRows[] = [];
    for (const { id, fold } of cases) {
      const pred = await readLabelMap(oofLabelFile(validationDir(o.modelDir, o.config, fold), id));
      const ref = await reference(id);
      if (pred.data.length !== ref.data.length)
        throw new Error(`${id}: out-of-fold prediction and reference differ in shape`);
      rows.push(postprocessingDice({ prediction: pred.data, reference: ref.data, shape: ref.shape }, labels));
    }
    // steps the validation cases cannot tell apart (no case changes) are left to the prior
    const allOn = { foreground: true, perLabel: Object.fromEntries(labels.map((l) => [String(l), true])) };
    const allOff = { foreground: false, perLabel: {} };
    const tiedOn = decidePostprocessing(rows, labels, { onTie: allOn });
    const tiedOff = decidePostprocessing(rows, labels, { onTie: allOff });
    const tied = [
      ...(tiedOn.foreground !== tiedOff.foreground ? ['the foreground step'] : []),
      ...labels
        .filter((l) => tiedOn.perLabel[String(l)] !== tiedOff.perLabel[String(l)])
        .map((l) => `label ${l}'s step`),
    ];
    let priorWhy = '';
    if (tied.length) {
      const prior = await trainingLabelPrior(folds, splits, labels, reference, o.tolerance);
      postprocessing = decidePostprocessing(rows, labels, { onTie: prior.recipe });
      priorWhy = `; ${tied.join(', ')} changed no validation case: decided by the ${prior.why}`;
    } else postprocessing = tiedOff;
    const raw = rawMeans(rows, labels);
    candidates = [
      {
        members: [o.config],
        meanDice: raw.mean,
        dicePerLabel: raw.perLabel,
      },
    ];
    choice = {
      rule: 'validation',
      cases: cases.length,
      why:
        `find-best's rule on the ${cases.length} validation case(s) of fold(s) ${folds.join(', ')} ` +
        `(${folds.length} of ${splits.length} folds; one configuration, no find-best): mean Dice ` +
        `${postprocessing.dice.before.toFixed(4)} raw, ${postprocessing.dice.after.toFixed(4)} post-processed` +
        priorWhy,
    };
  } else {
    const prior = await trainingLabelPrior(folds, splits, labels, reference, o.tolerance);
    postprocessing = prior.recipe;
    choice = {
      rule: 'training-labels',
      cases: prior.costs.cases,
      why: `no independent validation case: ${prior.why}`,
    };
  }
  const recipe: InferenceRecipe = {
    version: 1,
    configurations: [o.config],
    folds,
    checkpoint,
    postprocessing,
    candidates,
    cases: cases.length,
    postprocessingChoice: choice,
  };
  const file = await writeRecipe(o.modelDir, recipe);
  log(
    `inference recipe (no cross-validation): ${o.config} fold(s) ${folds.join(', ')}; post-processing: ` +
      `${describePostprocessing(postprocessing)} (${choice.rule}: ${choice.why}); wrote ${file}`,
  );
  return { written: true, recipe, file };
}

export interface BudgetedRunOptions extends Omit<SingleRunRecipeOptions, 'dataset' | 'fold'> {
  dataset: string;
  /** The fold just trained, or 'all' (every fold of splits.json: the last one is the fold just trained). */
  fold: number | 'all';
  /** The wall-clock budget train was given, if any. */
  budgetSeconds?: number;
}

/**
 * What `train`, `finetune` and `demo` do after a budgeted run (a wall-clock budget, or a plan made
 * for one): write the recipe of writeSingleRunRecipe. Not budgeted: nothing (nnU-Net's way,
 * find-best after 5 folds). The checkpoints are saved by then, so a recipe that cannot be chosen is
 * a warning in the log (predict then runs without post-processing), not a failed training.
 */
export async function recipeAfterBudgetedRun(o: BudgetedRunOptions): Promise<SingleRunRecipeResult> {
  const plans = await readPlans(path.join(o.modelDir, 'plans.json'));
  if (o.budgetSeconds === undefined && !plans.configurations[o.config]?.budget)
    return { written: false, reason: 'not a budgeted run' };
  try {
    const fold =
      o.fold === 'all' ? (await readSplits(path.join(o.modelDir, 'splits.json'))).length - 1 : o.fold;
    return await writeSingleRunRecipe({ ...o, fold });
  } catch (e) {
    const reason = `no inference recipe written (post-processing not chosen): ${(e as Error).message}`;
    o.log?.(`warning: ${reason}`);
    return { written: false, reason };
  }
}
