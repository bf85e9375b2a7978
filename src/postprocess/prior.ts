// Choosing post-processing without any prediction to score: a prior from the training labels, for a
// run that has no independent validation case (a budgeted run on one fold whose validation cases
// are its training cases, `--no-validation`, a dataset of one case).
//
// find-best keeps a "largest connected component" step only where it raises the out-of-fold mean
// Dice. Without predictions the gain cannot be measured, but the loss can be bounded: a step
// applied to a perfect prediction (the reference itself) removes exactly the parts of the true
// structure that are not its largest component. The rule, exactly:
//  * each training label map is "predicted" by itself and scored with the rows of choose.ts
//    (postprocessingDice): Dice of label l after the foreground step, after the per-label step, after
//    both; mean over the cases where l is present (NaN-skipping, as find-best's means);
//  * cost of the foreground step for label l = 1 − mean Dice of l after it;
//    the foreground step is on iff every label's cost is ≤ tolerance (default 0.02: on a perfect
//    prediction it costs no label more than 2 Dice points on average; find-best's "no label worse",
//    with room for real small detached pieces: in BraTS 2013 one case's oedema has a detached piece
//    of 4 % of its volume, 0.015 mean cost over three training cases, while the far false positives
//    of a budget-trained network cost tens of mm of HD95);
//  * cost of label l's step = mean Dice of l before it − after it, on top of the foreground step
//    when that is on (as find-best takes its per-label steps); on iff ≤ tolerance.
// So a structure that is one connected component in the training labels (one tumour, one liver)
// gets the step, which removes far false positives, and one that has two real components (two
// kidneys, two hippocampi under one label) does not: removing the smaller would cost ~1/3 Dice.
import {
  checkConnectivity,
  type Connectivity,
  type LabelArray,
  volumeShape,
} from '../labelmap/components.js';
import type { PostprocessingRecipe } from '../labelmap/postprocessing.js';
import { nanMean } from '../common/stats.js';
import { postprocessingDice, type CaseDiceRows } from './choose.js';

/** One training label map and its [D, H, W] (or 1-/2-D) shape. */
export interface LabelCase {
  label: LabelArray;
  shape: readonly number[];
}

export interface PriorOptions {
  /** The foreground labels to decide for (default: every nonzero value in the label maps). */
  labels?: readonly number[];
  /** default 26 */
  connectivity?: Connectivity;
  /** The largest mean Dice a step may cost a label on the training labels (default 0.02). */
  tolerance?: number;
}

export const DEFAULT_PRIOR_TOLERANCE = 0.02;

/** The rule's numbers: per label (string key), the mean Dice cost of each step on the training labels. */
export interface PriorCosts {
  /** cost of the foreground step for each label */
  foreground: Record<string, number | null>;
  /** cost of each label's own step (after the foreground step when that is on) */
  perLabel: Record<string, number | null>;
  tolerance: number;
  cases: number;
}

export interface PriorChoice {
  /** NaN Dice before/after: no prediction was scored (null in JSON). */
  recipe: PostprocessingRecipe;
  costs: PriorCosts;
  /** The decision in one sentence, for the inference recipe and logs. */
  why: string;
}

function checkedTolerance(t: number | undefined): number {
  const v = t ?? DEFAULT_PRIOR_TOLERANCE;
  if (!Number.isFinite(v) || v < 0 || v >= 1) throw new RangeError(`tolerance must be in [0, 1), got ${t}`);
  return v;
}

function valuesIn(m: LabelArray, seen: Set<number>): void {
  let last = 0;
  for (let i = 0; i < m.length; i++) {
    const v = m[i]!;
    if (v !== last) {
      last = v;
      if (v !== 0) seen.add(v);
    }
  }
}

/** The Dice rows of one training label map scored against itself (see the header). */
export function labelSelfRows(
  c: LabelCase,
  labels: readonly number[],
  connectivity?: Connectivity,
): CaseDiceRows {
  volumeShape(c.shape, c.label.length);
  return postprocessingDice({ prediction: c.label, reference: c.label, shape: c.shape }, labels, {
    connectivity,
  });
}

const fmt = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(4));
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** The rule in the header, from the self-scored rows of every training label map. */
export function decidePostprocessingPrior(
  rows: readonly CaseDiceRows[],
  labels: readonly number[],
  options?: Pick<PriorOptions, 'connectivity' | 'tolerance'>,
): PriorChoice {
  if (rows.length === 0) throw new RangeError('the training-label prior needs at least one label map');
  const connectivity = checkConnectivity(options?.connectivity);
  const tolerance = checkedTolerance(options?.tolerance);
  const mean = (pick: (r: CaseDiceRows) => Float64Array, j: number): number =>
    nanMean(Float64Array.from(rows, (r) => pick(r)[j]!));
  const fgCost = labels.map((_, j) => 1 - mean((r) => r.foreground, j));
  const known = fgCost.filter((c) => !Number.isNaN(c));
  const foreground = known.length > 0 && known.every((c) => c <= tolerance);
  const plCost = labels.map((_, j) =>
    foreground
      ? mean((r) => r.foreground, j) - mean((r) => r.both, j)
      : mean((r) => r.raw, j) - mean((r) => r.perLabel, j),
  );
  const perLabel: Record<string, boolean> = {};
  const diceByLabel: PostprocessingRecipe['diceByLabel'] = {};
  labels.forEach((l, j) => {
    perLabel[String(l)] = !Number.isNaN(plCost[j]!) && plCost[j]! <= tolerance;
    diceByLabel[String(l)] = { before: NaN, after: NaN };
  });
  const costs: PriorCosts = {
    foreground: Object.fromEntries(labels.map((l, j) => [String(l), orNull(fgCost[j]!)])),
    perLabel: Object.fromEntries(labels.map((l, j) => [String(l), orNull(plCost[j]!)])),
    tolerance,
    cases: rows.length,
  };
  const on = labels.filter((l) => perLabel[String(l)]);
  const why =
    `prior from ${rows.length} training label map(s) ` +
    `(a step is kept when, applied to the training labels themselves, it costs every label at most ` +
    `${tolerance} mean Dice); foreground step ${foreground ? 'on' : 'off'} (cost per label ` +
    `${labels.map((l, j) => `${l}: ${fmt(fgCost[j]!)}`).join(', ')}); per-label steps on for ` +
    `${on.length ? on.join(', ') : 'none'} (cost ${labels.map((l, j) => `${l}: ${fmt(plCost[j]!)}`).join(', ')})`;
  return {
    recipe: {
      foreground,
      perLabel,
      dice: { before: NaN, after: NaN },
      diceByLabel,
      connectivity,
    },
    costs,
    why,
  };
}

/**
 * The post-processing prior from training label maps (see the header). A case may be a function
 * returning it, called once (twice when options.labels is not given), so that large label maps are
 * read one at a time.
 */
export function choosePostprocessingPrior(
  cases: readonly (LabelCase | (() => LabelCase))[],
  options?: PriorOptions,
): PriorChoice {
  if (cases.length === 0) throw new RangeError('the training-label prior needs at least one label map');
  const get = (k: number): LabelCase => {
    const c = cases[k]!;
    return typeof c === 'function' ? c() : c;
  };
  let labels: number[];
  if (options?.labels) labels = [...options.labels];
  else {
    const seen = new Set<number>();
    for (let k = 0; k < cases.length; k++) valuesIn(get(k).label, seen);
    labels = [...seen].sort((a, b) => a - b);
  }
  const rows = Array.from(cases, (_, k) => labelSelfRows(get(k), labels, options?.connectivity));
  return decidePostprocessingPrior(rows, labels, options);
}
