// Dice of label maps from exact integer voxel counts: what validation, post-processing choice and
// model selection all score with.
import { checkLabelArray, type LabelArray } from './components.js';

/**
 * Exact Dice of `label`: 2|P∩R| / (|P| + |R|) from integer voxel counts. When the label is in neither
 * map, `empty` (default NaN, so means skip the case).
 */
export function dice(prediction: LabelArray, reference: LabelArray, label: number, empty = NaN): number {
  if (prediction.length !== reference.length)
    throw new RangeError('prediction and reference differ in length');
  let p = 0;
  let r = 0;
  let both = 0;
  for (let i = 0; i < prediction.length; i++) {
    const a = prediction[i] === label;
    const b = reference[i] === label;
    if (a) p++;
    if (b) r++;
    if (a && b) both++;
  }
  return p + r === 0 ? empty : (2 * both) / (p + r);
}

/** Dice of each label in `labels` (all >= 0) in one pass over the maps; empty as for dice(). */
export function dicePerLabel(
  prediction: LabelArray,
  reference: LabelArray,
  labels: readonly number[],
  empty = NaN,
): Float64Array {
  checkLabelArray(prediction, 'prediction');
  checkLabelArray(reference, 'reference');
  if (prediction.length !== reference.length)
    throw new RangeError('prediction and reference differ in length');
  let max = 0;
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0) throw new RangeError(`labels must be non-negative integers, got ${l}`);
    if (l > max) max = l;
  }
  // counts per value 0..max, with slot max + 1 for every other value
  const other = max + 1;
  const p = new Float64Array(max + 2);
  const r = new Float64Array(max + 2);
  const both = new Float64Array(max + 2);
  for (let i = 0; i < prediction.length; i++) {
    let a = prediction[i]!;
    let b = reference[i]!;
    if (a < 0 || a > max) a = other;
    if (b < 0 || b > max) b = other;
    p[a]++;
    r[b]++;
    if (prediction[i] === reference[i]) both[a]++;
  }
  const out = new Float64Array(labels.length);
  labels.forEach((l, k) => {
    const s = p[l]! + r[l]!;
    out[k] = s === 0 ? empty : (2 * both[l]!) / s;
  });
  return out;
}

/**
 * Dice of each region (a set of label values: BraTS's whole tumour is {1, 2, 3, 4}), a voxel being in
 * a region when its value is one of the set's; empty as for dice().
 */
export function diceOfRegions(
  prediction: LabelArray,
  reference: LabelArray,
  regions: readonly (readonly number[])[],
  empty = NaN,
): Float64Array {
  checkLabelArray(prediction, 'prediction');
  checkLabelArray(reference, 'reference');
  if (prediction.length !== reference.length)
    throw new RangeError('prediction and reference differ in length');
  // the joint histogram of (prediction, reference) values, then each region's counts from it
  const joint = new Map<number, Map<number, number>>();
  for (let i = 0; i < prediction.length; i++) {
    const a = prediction[i]!;
    let row = joint.get(a);
    if (!row) joint.set(a, (row = new Map()));
    const b = reference[i]!;
    row.set(b, (row.get(b) ?? 0) + 1);
  }
  return Float64Array.from(regions, (set) => {
    let p = 0;
    let r = 0;
    let both = 0;
    for (const [a, row] of joint)
      for (const [b, n] of row) {
        const inP = set.includes(a);
        const inR = set.includes(b);
        if (inP) p += n;
        if (inR) r += n;
        if (inP && inR) both += n;
      }
    return p + r === 0 ? empty : (2 * both) / (p + r);
  });
}
