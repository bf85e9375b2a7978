// A reference label map as a region-based model would write it: each region's `writeAs` value where
// the voxel's label is in the region, later regions over earlier (BraTS: necrosis 1 → whole tumour
// writes 2, then tumour core writes 1). Post-processing is chosen on what the model writes, so its
// references are brought to the same values first.
import { checkLabelArray, type LabelArray } from './components.js';
import { diceOfRegions, dicePerLabel } from './dice.js';

export interface WrittenRegion {
  labels: readonly number[];
  writeAs: number;
}

export function writtenByRegions<T extends LabelArray>(map: T, regions: readonly WrittenRegion[]): T {
  checkLabelArray(map, 'reference');
  // value → written value, for the values the map holds
  const written = new Map<number, number>();
  const out = new (map.constructor as new (n: number) => T)(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    let w = written.get(v);
    if (w === undefined) {
      w = 0;
      for (const r of regions) if (r.labels.includes(v)) w = r.writeAs;
      written.set(v, w);
    }
    out[i] = w;
  }
  return out;
}

/** The part of a plan that says what its label maps hold (plans.json's labelValues and regions). */
export interface LabelPlan {
  labelValues: readonly number[];
  regions?: readonly (WrittenRegion & { name: string })[];
}

/** The values a plan's predictions hold besides 0: each region's writeAs, else the foreground labels. */
export function predictedValues(plan: LabelPlan): number[] {
  return plan.regions
    ? [...new Set(plan.regions.map((r) => r.writeAs))].sort((a, b) => a - b)
    : plan.labelValues.slice(1);
}

/** What a prediction is scored on: each region by name, else each foreground label value. */
export function scoredNames(plan: LabelPlan): string[] {
  return plan.regions ? plan.regions.map((r) => r.name) : plan.labelValues.slice(1).map(String);
}

/** Dice of each of scoredNames(plan), reference in its stored label values. */
export function scoredDice(prediction: LabelArray, reference: LabelArray, plan: LabelPlan): Float64Array {
  return plan.regions
    ? diceOfRegions(
        prediction,
        reference,
        plan.regions.map((r) => r.labels),
      )
    : dicePerLabel(prediction, reference, plan.labelValues.slice(1));
}
