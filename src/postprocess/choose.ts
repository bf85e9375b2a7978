// Deciding the post-processing from cross-validation results, as nnU-Net does: out-of-fold
// predictions are compared with their references, with and without keeping only the largest
// connected component, and a step is kept only where it raises the mean Dice.
//
// The rule, exactly (Dice of a label in a case: dice() below, or options.dice):
//  * mean Dice of label l = mean over cases of its Dice, skipping NaN (a case where l is absent from
//    both prediction and reference gives NaN with the default Dice, so it does not count for l);
//    foreground mean = mean over labels of those means (skipping labels that are NaN everywhere).
//  1. Foreground step: keepLargestForeground on every prediction. Accepted iff the foreground mean
//     after is strictly greater than before AND no label's mean Dice is strictly lower after than
//     before (requireNoLabelWorse, default true; nnU-Net's defensive check).
//  2. Per-label step, taken on the predictions as they are after step 1 (with step 1 applied when it
//     was accepted): for each label l on its own, keepLargestPerLabel restricted to l is accepted iff
//     label l's mean Dice after is strictly greater than before. (Filtering label l only turns voxels
//     of l into background, so it changes no other label's Dice: the per-label decisions are independent.)
// Equal means (nothing changed, or a change that neither helps nor hurts) keep the step off, unless a
// tie-breaker is given (options.onTie: a run with few validation cases lets the training-label prior
// of prior.ts decide the steps its cases cannot tell apart). A tie is, for the foreground step, every
// label's mean unchanged; for label l's step, l's mean unchanged.
import {
  checkConnectivity,
  type Connectivity,
  type LabelArray,
  volumeShape,
} from '../labelmap/components.js';
import { keepLargestForeground, keepLargestPerLabel } from '../labelmap/largestComponent.js';
import { dicePerLabel } from '../labelmap/dice.js';
import { type MeanDice, type PostprocessingRecipe } from '../labelmap/postprocessing.js';
import { nanMean } from '../common/stats.js';

/** One out-of-fold case: the prediction and its reference label maps, same shape. */
export interface CvCase {
  prediction: LabelArray;
  reference: LabelArray;
  shape: readonly number[];
}

/** Dice of one label in one case. */
export type DiceFn = (prediction: LabelArray, reference: LabelArray, label: number) => number;

export interface ChooseOptions {
  /** labels to evaluate and decide for (default: every nonzero value found in the references or predictions) */
  labels?: readonly number[];
  /** default 26 */
  connectivity?: Connectivity;
  /**
   * the Dice of one label; default dice() with NaN for a label absent from both maps. It must depend
   * only on which voxels hold `label` in the two maps (the per-label steps are evaluated all at once).
   */
  dice?: DiceFn;
  /** reject the foreground step when any label's mean Dice gets worse (default true, as nnU-Net) */
  requireNoLabelWorse?: boolean;
  /** the decision of a step whose means are tied (default: off); see the header */
  onTie?: Pick<PostprocessingRecipe, 'foreground' | 'perLabel'>;
}

/** The nonzero values present in the predictions or references of the cases, sorted. */
function labelsPresent(n: number, get: (k: number) => CvCase): number[] {
  const seen = new Set<number>();
  for (let k = 0; k < n; k++) {
    const c = get(k);
    for (const m of [c.prediction, c.reference]) addValues(m, seen);
  }
  return [...seen].sort((a, b) => a - b);
}

function addValues(m: LabelArray, seen: Set<number>): void {
  let last = 0;
  for (let i = 0; i < m.length; i++) {
    const v = m[i]!;
    if (v !== last) {
      last = v;
      if (v !== 0) seen.add(v);
    }
  }
}

/**
 * What one out-of-fold case contributes to the decision, per label (labels[j] in column j): Dice of
 * the raw prediction, after the foreground step, after the per-label step on the raw prediction and
 * after both steps. Computing the four at once needs each case only once, so that a caller can stream
 * cases from disk and keep nothing but these numbers.
 */
export interface CaseDiceRows {
  raw: Float64Array;
  foreground: Float64Array;
  perLabel: Float64Array;
  both: Float64Array;
}

function checkedLabels(labels: readonly number[]): number[] {
  for (const l of labels) {
    if (!Number.isInteger(l) || l <= 0) throw new RangeError(`labels must be positive integers, got ${l}`);
  }
  return [...labels];
}

/** The four Dice rows of one case (see CaseDiceRows). */
export function postprocessingDice(
  c: CvCase,
  labels: readonly number[],
  options?: Pick<ChooseOptions, 'connectivity' | 'dice'>,
): CaseDiceRows {
  const connectivity = checkConnectivity(options?.connectivity);
  volumeShape(c.shape, c.prediction.length);
  if (c.reference.length !== c.prediction.length) throw new RangeError('reference and prediction differ');
  const ls = checkedLabels(labels);
  const custom = options?.dice;
  const diceAll = (pred: LabelArray): Float64Array =>
    custom ? Float64Array.from(ls, (l) => custom(pred, c.reference, l)) : dicePerLabel(pred, c.reference, ls);
  const fg = keepLargestForeground(c.prediction, c.shape, { connectivity });
  // every label filtered at once: label l's Dice is the same as when l alone is filtered
  const perLabel = (m: LabelArray, inPlace: boolean) =>
    keepLargestPerLabel(m, c.shape, { connectivity, labels: ls, inPlace });
  const raw = diceAll(c.prediction);
  const foreground = diceAll(fg);
  const perLabelRow = diceAll(perLabel(c.prediction, false));
  // fg is not needed after this: filter it in place
  const both = diceAll(perLabel(fg, true));
  return { raw, foreground, perLabel: perLabelRow, both };
}

/** The rule in the header of this file, applied to the rows of every case. */
export function decidePostprocessing(
  rows: readonly CaseDiceRows[],
  labels: readonly number[],
  options?: Pick<ChooseOptions, 'connectivity' | 'requireNoLabelWorse' | 'onTie'>,
): PostprocessingRecipe {
  if (rows.length === 0) throw new RangeError('choosePostprocessing needs at least one case');
  const connectivity = checkConnectivity(options?.connectivity);
  const requireNoLabelWorse = options?.requireNoLabelWorse ?? true;
  const ls = checkedLabels(labels);
  const L = ls.length;
  const labelMeans = (pick: (r: CaseDiceRows) => Float64Array): Float64Array =>
    Float64Array.from(ls, (_, j) => nanMean(Float64Array.from(rows, (r) => pick(r)[j]!)));
  const rawMeans = labelMeans((r) => r.raw);
  const fgMeans = labelMeans((r) => r.foreground);
  const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));
  const onTie = options?.onTie;
  let foreground = nanMean(fgMeans) > nanMean(rawMeans);
  if (foreground && requireNoLabelWorse) {
    for (let j = 0; j < L; j++) if (fgMeans[j]! < rawMeans[j]!) foreground = false;
  }
  if (onTie && ls.every((_, j) => same(fgMeans[j]!, rawMeans[j]!))) foreground = onTie.foreground;
  const baseMeans = foreground ? fgMeans : rawMeans;
  const plMeans = labelMeans((r) => (foreground ? r.both : r.perLabel));
  const perLabel: Record<string, boolean> = {};
  const diceByLabel: Record<string, MeanDice> = {};
  const afterMeans = new Float64Array(L);
  ls.forEach((l, j) => {
    const on =
      onTie && same(plMeans[j]!, baseMeans[j]!)
        ? onTie.perLabel[String(l)] === true
        : plMeans[j]! > baseMeans[j]!;
    perLabel[String(l)] = on;
    afterMeans[j] = on ? plMeans[j]! : baseMeans[j]!;
    diceByLabel[String(l)] = { before: rawMeans[j]!, after: afterMeans[j]! };
  });
  return {
    foreground,
    perLabel,
    dice: { before: nanMean(rawMeans), after: nanMean(afterMeans) },
    diceByLabel,
    connectivity,
  };
}

/**
 * Decides the post-processing from out-of-fold (prediction, reference) pairs with the rule in the
 * header of this file. A case may be given as a function returning it, called once (and once more to
 * find the labels when options.labels is not given), so that large cases can be loaded one at a time.
 * NaN means (a label absent from every case) become null in JSON.
 */
export function choosePostprocessing(
  cases: readonly (CvCase | (() => CvCase))[],
  options?: ChooseOptions,
): PostprocessingRecipe {
  if (cases.length === 0) throw new RangeError('choosePostprocessing needs at least one case');
  const get = (k: number): CvCase => {
    const c = cases[k]!;
    const v = typeof c === 'function' ? c() : c;
    volumeShape(v.shape, v.prediction.length);
    if (v.reference.length !== v.prediction.length)
      throw new RangeError(`case ${k}: reference and prediction differ`);
    return v;
  };
  const labels = checkedLabels(options?.labels ? [...options.labels] : labelsPresent(cases.length, get));
  const rows = Array.from(cases, (_, k) => postprocessingDice(get(k), labels, options));
  return decidePostprocessing(rows, labels, options);
}
