// Voxel-level scans for the dataset check: the label values present (with counts) and non-finite image
// values. Each is one pass over the data with no allocation per voxel, so a 512×512×500 CT costs well
// under a second.
import type { Volume, VoxelArray } from '../io/volume.js';

/** Number of voxels of the first 3 dimensions, times the 4th when present. */
export function voxelCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface LabelScan {
  /** Real value → voxel count, for the integer values. */
  counts: Map<number, number>;
  /** Voxels whose real value is not an integer (or not finite). */
  nonInteger: number;
  /** One such value, for the message. */
  nonIntegerExample?: number;
}

/** Counts the label values of a volume, after the header's scaling (labels are stored as floats too). */
export function scanLabel(vol: Pick<Volume, 'data' | 'sclSlope' | 'sclInter'>): LabelScan {
  const { data, sclSlope: slope, sclInter: inter } = vol;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return scanBigLabel(data, slope, inter);
  const counts = new Map<number, number>();
  let nonInteger = 0;
  let example: number | undefined;
  const identity = slope === 1 && inter === 0;
  // Small unsigned types: a histogram array is much faster than a Map.
  if (identity && (data instanceof Uint8Array || data instanceof Uint16Array)) {
    const hist = new Float64Array(data instanceof Uint8Array ? 256 : 65536);
    for (let i = 0; i < data.length; i++) hist[data[i]!]!++;
    hist.forEach((n, v) => n > 0 && counts.set(v, n));
    return { counts, nonInteger };
  }
  // Labels come in long runs of one value, so remembering the last one avoids most Map lookups.
  let last = NaN;
  let run = 0;
  const flush = (): void => {
    if (run > 0) counts.set(last, (counts.get(last) ?? 0) + run);
  };
  for (let i = 0; i < data.length; i++) {
    const v = (data as Exclude<VoxelArray, BigInt64Array | BigUint64Array>)[i]! * slope + inter;
    if (v === last) {
      run++;
      continue;
    }
    if (!Number.isInteger(v)) {
      nonInteger++;
      example ??= v;
      continue;
    }
    flush();
    last = v;
    run = 1;
  }
  flush();
  return { counts, nonInteger, ...(example !== undefined ? { nonIntegerExample: example } : {}) };
}

function scanBigLabel(data: BigInt64Array | BigUint64Array, slope: number, inter: number): LabelScan {
  const counts = new Map<number, number>();
  let nonInteger = 0;
  let example: number | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]!) * slope + inter;
    if (!Number.isInteger(v)) {
      nonInteger++;
      example ??= v;
    } else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts, nonInteger, ...(example !== undefined ? { nonIntegerExample: example } : {}) };
}

/** Voxels of data[start, end) that are NaN or ±Inf (only float data, or a broken scale, can have them). */
export function countNonFinite(
  vol: Pick<Volume, 'data' | 'sclSlope' | 'sclInter'>,
  start = 0,
  end = vol.data.length,
): number {
  const { data } = vol;
  if (!Number.isFinite(vol.sclSlope) || !Number.isFinite(vol.sclInter)) return end - start;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = data[i]!;
    // v - v is NaN exactly for NaN and ±Inf.
    if (v - v !== 0) n++;
  }
  return n;
}
