// Real (scaled) voxel values: as a float array, and their min/max/mean without making that array.
import type { Volume, VoxelArray } from './volume.js';

export type Precision = 'auto' | 'float32' | 'float64';

/** Whether float32 cannot hold every real value of `vol` (wide integer or float64 storage). */
export function needsFloat64(vol: Pick<Volume, 'datatype' | 'sclSlope' | 'sclInter'>): boolean {
  const wide = ['int32', 'uint32', 'int64', 'uint64', 'float64'];
  return (
    wide.includes(vol.datatype) ||
    Math.fround(vol.sclSlope) !== vol.sclSlope ||
    Math.fround(vol.sclInter) !== vol.sclInter
  );
}

/**
 * stored × sclSlope + sclInter for every element, as a new array: Float32Array unless `precision`
 * asks for float64 or ('auto') float32 would round the values. For rgb24 the 3 bytes per voxel come
 * out as they are (no scaling applies to colour).
 */
export function scaledValues(
  vol: Pick<Volume, 'data' | 'datatype' | 'sclSlope' | 'sclInter'>,
  precision: Precision = 'auto',
): Float32Array | Float64Array {
  const wide = precision === 'float64' || (precision === 'auto' && needsFloat64(vol));
  const n = vol.data.length;
  const out = wide ? new Float64Array(n) : new Float32Array(n);
  const rgb = vol.datatype === 'rgb24';
  const slope = rgb ? 1 : vol.sclSlope;
  const inter = rgb ? 0 : vol.sclInter;
  const d = vol.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(d[i]!) * slope + inter;
  } else if (slope === 1 && inter === 0) {
    out.set(d);
  } else {
    for (let i = 0; i < n; i++) out[i] = d[i]! * slope + inter;
  }
  return out;
}

export interface ValueStats {
  min: number;
  max: number;
  mean: number;
  /** Elements that are NaN (left out of min/max/mean). */
  nanCount: number;
  /** Elements counted. */
  count: number;
}

/**
 * min/max/mean of the real values over all elements, NaN left out. Computed on stored values and
 * scaled at the end (scaling is affine, so min/max swap for a negative slope), in float64.
 */
export function volumeStats(vol: Pick<Volume, 'data' | 'datatype' | 'sclSlope' | 'sclInter'>): ValueStats {
  const [lo, hi, sum, nan] = rawStats(vol.data);
  const count = vol.data.length - nan;
  const rgb = vol.datatype === 'rgb24';
  const slope = rgb ? 1 : vol.sclSlope;
  const inter = rgb ? 0 : vol.sclInter;
  if (count === 0) return { min: NaN, max: NaN, mean: NaN, nanCount: nan, count };
  const a = lo * slope + inter;
  const b = hi * slope + inter;
  return {
    min: Math.min(a, b),
    max: Math.max(a, b),
    mean: (sum / count) * slope + inter,
    nanCount: nan,
    count,
  };
}

function rawStats(d: VoxelArray): [number, number, number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  let nan = 0;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) {
      const v = Number(d[i]!);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    return [lo, hi, sum, 0];
  }
  const isFloat = d instanceof Float32Array || d instanceof Float64Array;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (isFloat && v !== v) {
      nan++;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    sum += v;
  }
  return [lo, hi, sum, nan];
}
