// Keeps only the largest connected component of a label map: of all foreground together, or of each
// label on its own. Works on the run table of components.ts, so no voxel-id volume is written: the
// result is the input (copied, or in place) with the runs of the removed components set to 0.
//
// Ties: when several components share the largest size, the one whose first voxel comes first in
// raster order (z, then y, then x) is kept.
import {
  buildRuns,
  checkConnectivity,
  componentSizes,
  type Connectivity,
  type LabelArray,
  type RunTable,
} from './components.js';

export interface LargestComponentOptions {
  /** default 26 */
  connectivity?: Connectivity;
  /** write into `labels` instead of into a copy (default false) */
  inPlace?: boolean;
}

export interface PerLabelOptions extends LargestComponentOptions {
  /** the labels to filter (default: every nonzero value); the others are left as they are */
  labels?: readonly number[];
}

/** Sets to 0 the voxels of every run whose component has keep[id] === 0. */
function zeroRuns(out: LabelArray, t: RunTable, keep: Uint8Array): number {
  const { H, W, start, end, rowPtr, comp } = t;
  let removed = 0;
  const rows = t.D * H;
  for (let r = 0; r < rows; r++) {
    const i1 = rowPtr[r + 1]!;
    const base = r * W;
    for (let i = rowPtr[r]!; i < i1; i++) {
      if (keep[comp[i]!] === 0) {
        out.fill(0, base + start[i]!, base + end[i]!);
        removed += end[i]! - start[i]!;
      }
    }
  }
  return removed;
}

/** The component id of the first largest component (0 when there is none). */
function argmaxFirst(sizes: Float64Array): number {
  let best = 0;
  for (let id = 1; id < sizes.length; id++) if (best === 0 || sizes[id]! > sizes[best]!) best = id;
  return best;
}

/**
 * Keeps the largest connected component of the foreground (all nonzero labels together, as one
 * mask); the voxels of every other component become 0. Labels inside the kept component are kept.
 */
export function keepLargestForeground<T extends LabelArray>(
  labels: T,
  shape: readonly number[],
  options?: LargestComponentOptions,
): T {
  const t = buildRuns(labels, shape, checkConnectivity(options?.connectivity), false);
  const out = options?.inPlace ? labels : (labels.slice() as T);
  if (t.count <= 1) return out;
  const keep = new Uint8Array(t.count + 1);
  keep[argmaxFirst(componentSizes(t))] = 1;
  zeroRuns(out, t, keep);
  return out;
}

/**
 * For each label independently (all nonzero values, or `options.labels`), keeps the largest
 * connected component of that label's voxels; the voxels of its other components become 0.
 */
export function keepLargestPerLabel<T extends LabelArray>(
  labels: T,
  shape: readonly number[],
  options?: PerLabelOptions,
): T {
  const t = buildRuns(labels, shape, checkConnectivity(options?.connectivity), true);
  const out = options?.inPlace ? labels : (labels.slice() as T);
  const selected = options?.labels ? new Set(options.labels) : null;
  if (selected?.has(0)) throw new RangeError('label 0 is background and cannot be filtered');
  const sizes = componentSizes(t);
  // the value of each component: that of its first run (all its runs share it)
  const compValue = new Float64Array(t.count + 1);
  const value = t.value!;
  for (let i = 0, next = 1; i < t.n; i++) {
    if (t.comp[i] === next) {
      compValue[next] = value[i]!;
      next++;
    }
  }
  const best = new Map<number, number>();
  const keep = new Uint8Array(t.count + 1).fill(1);
  let removing = false;
  for (let id = 1; id <= t.count; id++) {
    const v = compValue[id]!;
    if (selected !== null && !selected.has(v)) continue;
    const b = best.get(v);
    if (b === undefined) best.set(v, id);
    else {
      removing = true;
      if (sizes[id]! > sizes[b]!) {
        keep[b] = 0;
        best.set(v, id);
      } else keep[id] = 0;
    }
  }
  if (removing) zeroRuns(out, t, keep);
  return out;
}
