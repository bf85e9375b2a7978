// A post-processing recipe (what find-best chose on out-of-fold predictions) and its application to
// a predicted label map; prediction, validation and the choice itself all apply it.
import { checkConnectivity, type Connectivity, type LabelArray } from './components.js';
import { keepLargestForeground, keepLargestPerLabel } from './largestComponent.js';

export interface MeanDice {
  before: number;
  after: number;
}

/** What to apply; JSON-serialisable (JSON.stringify / JSON.parse round-trip it). */
export interface PostprocessingRecipe {
  /** keep only the largest component of all foreground together */
  foreground: boolean;
  /** per label (as a string key): keep only the largest component of that label */
  perLabel: Record<string, boolean>;
  /** foreground mean Dice on the raw predictions and with the whole recipe applied */
  dice: MeanDice;
  /** mean Dice per label, raw and with the whole recipe applied */
  diceByLabel: Record<string, MeanDice>;
  /** the connectivity the components were taken with (default 26) */
  connectivity: Connectivity;
}

/** Applies a recipe: the foreground step, then the per-label steps marked true. Returns a new array. */
export function applyPostprocessing<T extends LabelArray>(
  labels: T,
  shape: readonly number[],
  recipe: Pick<PostprocessingRecipe, 'foreground' | 'perLabel'> & { connectivity?: Connectivity },
): T {
  const connectivity = checkConnectivity(recipe.connectivity);
  let out = recipe.foreground
    ? keepLargestForeground(labels, shape, { connectivity })
    : (labels.slice() as T);
  const chosen = Object.entries(recipe.perLabel)
    .filter(([, on]) => on)
    .map(([l]) => Number(l));
  if (chosen.length > 0)
    out = keepLargestPerLabel(out, shape, { connectivity, labels: chosen, inPlace: true });
  return out;
}
