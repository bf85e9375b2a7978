// Segmentation metrics of a predicted label map against a reference, per label and per region.
//
// For a label (or region: a union of labels) let P and R be the predicted and reference voxel sets.
//
// - surface(M): the voxels of M with at least one of their 6 face neighbours outside M; a neighbour
//   outside the image counts as outside M. Distances are Euclidean, in mm, between voxel centres,
//   with the voxel spacing (sx, sy, sz) along i, j, k: |(Δi·sx, Δj·sy, Δk·sz)|.
// - d(P→R): for each voxel of surface(P), the distance to the nearest voxel of surface(R); d(R→P) alike.
// - dice = 2|P∩R| / (|P| + |R|); iou = |P∩R| / |P∪R|; both 1 when P and R are empty.
// - hd95 = max(pct95(d(P→R)), pct95(d(R→P))), pct95 being the 95th percentile with linear
//   interpolation between order statistics (numpy's default method 'linear': for sorted values
//   a[0..n-1], h = (n−1)·0.95, pct = a[⌊h⌋] + (h−⌊h⌋)·(a[⌊h⌋+1] − a[⌊h⌋])).
// - hd = max over both directions (the Hausdorff distance); assd = the mean of all the distances of
//   both directions pooled (average symmetric surface distance).
// - nsd (normalised surface distance, "surface Dice") at tolerance T mm =
//   (#{d(P→R) ≤ T'} + #{d(R→P) ≤ T'}) / (|surface(P)| + |surface(R)|), T' = T·(1 + 1e-6): a
//   relative epsilon (NSD_RELATIVE_EPSILON), so that a distance equal to T up to rounding counts.
//   Spacings computed from an oblique or float32 affine come out as 1.0000000023 mm where the header
//   means 1 mm; without the epsilon every one-voxel distance then falls outside a 1 mm tolerance and
//   NSD halves. 1e-6 is far above float32's relative precision (6e-8) and far below any spacing
//   difference that matters (1 nm per mm).
// - When P and R are both empty: hd95 = hd = assd = 0, nsd = 1. When exactly one is empty: hd95, hd,
//   assd are Infinity (null in JSON) and nsd = 0.
// - Volumes in mm³ are voxel counts times sx·sy·sz; volumeDiffMm3 = vol(P) − vol(R);
//   volumeDiffRel = (vol(P) − vol(R)) / vol(R): 0 when both are empty, Infinity when only R is.
//
// Distances are exact Euclidean distance transforms (edt.ts) computed only inside the bounding box
// of P∪R: every surface voxel lies in that box, so no margin is needed for the distances, and a
// box face is treated as outside, which is exact for the surfaces since P and R lie inside the box.
import { percentile } from '../common/stats.js';
import { distancesAt, type Dims, type Spacing } from './edt.js';
import {
  EvaluationInputError,
  encodeLabels,
  spatialShape,
  tabulate,
  type EncodedLabels,
  type LabelTable,
  type LabelVolume,
} from './labels.js';

/** The most (pred value, ref value) pairs counted: 2^24 (128 MB of counts). */
const MAX_PAIRS = 1 << 24;

/** The NSD tolerance when none is given, in mm. */
export const DEFAULT_TOLERANCE_MM = 2;

/** NSD counts a distance d as within tolerance T when d ≤ T·(1 + NSD_RELATIVE_EPSILON) (see above). */
export const NSD_RELATIVE_EPSILON = 1e-6;

/** The metrics of one label or region of one case. Infinity stands for an infinite distance. */
export interface Metrics {
  dice: number;
  iou: number;
  hd95: number;
  hd: number;
  assd: number;
  nsd: number;
  predVoxels: number;
  refVoxels: number;
  intersectionVoxels: number;
  predVolumeMm3: number;
  refVolumeMm3: number;
  volumeDiffMm3: number;
  volumeDiffRel: number;
}

/** The metric names, in the order of CSV columns. */
export const METRIC_KEYS = [
  'dice',
  'iou',
  'hd95',
  'hd',
  'assd',
  'nsd',
  'predVoxels',
  'refVoxels',
  'intersectionVoxels',
  'predVolumeMm3',
  'refVolumeMm3',
  'volumeDiffMm3',
  'volumeDiffRel',
] as const satisfies readonly (keyof Metrics)[];

/** A named union of labels, e.g. BraTS whole tumour {name: 'WT', labels: [1, 2, 3]}. */
export interface Region {
  name: string;
  labels: number[];
}

export interface EvaluateOptions {
  /** Labels to report one by one; default every nonzero value found in pred or ref; [] for none. */
  labels?: number[];
  /** Unions of labels to report under their names. */
  regions?: Region[];
  /** NSD tolerance in mm (default DEFAULT_TOLERANCE_MM). */
  toleranceMm?: number;
}

/** Metrics by key: a label's value as a string ("1") or a region's name. */
export type CaseMetrics = Record<string, Metrics>;

/** The surface voxels (1) of a mask in a box: mask voxels with a 6-neighbour outside the mask or box. */
export function surfaceOf(mask: Uint8Array, dims: Dims): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const out = new Uint8Array(mask.length);
  let idx = 0;
  for (let k = 0; k < nz; k++) {
    const zEdge = k === 0 || k === nz - 1;
    for (let j = 0; j < ny; j++) {
      const yEdge = zEdge || j === 0 || j === ny - 1;
      for (let i = 0; i < nx; i++, idx++) {
        if (mask[idx] === 0) continue;
        if (
          yEdge ||
          i === 0 ||
          i === nx - 1 ||
          mask[idx - 1] === 0 ||
          mask[idx + 1] === 0 ||
          mask[idx - nx] === 0 ||
          mask[idx + nx] === 0 ||
          mask[idx - plane] === 0 ||
          mask[idx + plane] === 0
        ) {
          out[idx] = 1;
        }
      }
    }
  }
  return out;
}

interface Counts {
  pred: number;
  ref: number;
  both: number;
}

/** Overlap and volume metrics from counts, distances left for the caller. */
function countMetrics(c: Counts, voxelMm3: number): Metrics {
  const union = c.pred + c.ref - c.both;
  const predVolumeMm3 = c.pred * voxelMm3;
  const refVolumeMm3 = c.ref * voxelMm3;
  const empty = c.pred === 0 && c.ref === 0;
  const oneEmpty = !empty && (c.pred === 0 || c.ref === 0);
  return {
    dice: empty ? 1 : (2 * c.both) / (c.pred + c.ref),
    iou: empty ? 1 : c.both / union,
    hd95: oneEmpty ? Infinity : 0,
    hd: oneEmpty ? Infinity : 0,
    assd: oneEmpty ? Infinity : 0,
    nsd: empty ? 1 : 0,
    predVoxels: c.pred,
    refVoxels: c.ref,
    intersectionVoxels: c.both,
    predVolumeMm3,
    refVolumeMm3,
    volumeDiffMm3: predVolumeMm3 - refVolumeMm3,
    volumeDiffRel:
      c.ref === 0 ? (c.pred === 0 ? 0 : Infinity) : (predVolumeMm3 - refVolumeMm3) / refVolumeMm3,
  };
}

/** Fills the surface-distance metrics of m from the masks of P and R inside their box. */
function addDistances(
  m: Metrics,
  p: Uint8Array,
  r: Uint8Array,
  box: Dims,
  spacing: Spacing,
  toleranceMm: number,
): void {
  const sp = surfaceOf(p, box);
  const sr = surfaceOf(r, box);
  const work = new Float64Array(p.length);
  const pr = distancesAt(sr, sp, box, spacing, work);
  const rp = distancesAt(sp, sr, box, spacing, work);
  const limit = toleranceMm * (1 + NSD_RELATIVE_EPSILON);
  let within = 0;
  let sum = 0;
  let max = 0;
  for (const d of [pr, rp]) {
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v <= limit) within++;
      sum += v;
      if (v > max) max = v;
    }
  }
  pr.sort();
  rp.sort();
  const n = pr.length + rp.length;
  m.hd95 = Math.max(percentile(pr, 95), percentile(rp, 95));
  m.hd = max;
  m.assd = sum / n;
  m.nsd = within / n;
}

function checkSpacing(spacing: readonly number[], name: string): Spacing {
  const s = [spacing[0] ?? 1, spacing[1] ?? 1, spacing[2] ?? 1] as const;
  if (!s.every((v) => Number.isFinite(v) && v > 0)) {
    throw new EvaluationInputError(
      `${name}: voxel spacing [${spacing.join(', ')}] must be positive and finite`,
    );
  }
  return s;
}

function checkTolerance(t: number | undefined): number {
  const tol = t ?? DEFAULT_TOLERANCE_MM;
  if (!(Number.isFinite(tol) && tol >= 0))
    throw new RangeError(`the NSD tolerance must be a finite number ≥ 0 mm, got ${t}`);
  return tol;
}

/**
 * Metrics of two binary masks (nonzero = inside) of one shape [nx, ny, nz] with spacing in mm: the
 * single-label core of `evaluateCase`.
 */
export function maskMetrics(
  pred: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  toleranceMm = DEFAULT_TOLERANCE_MM,
): Metrics {
  const bin = (m: ArrayLike<number>): LabelVolume => ({
    data: Uint8Array.from(m, (v) => (v ? 1 : 0)),
    shape,
    spacing,
  });
  return evaluateCase(
    bin(pred),
    bin(ref),
    { labels: [1], toleranceMm },
    { pred: 'pred mask', ref: 'ref mask' },
  )['1']!;
}

/** File names (or any labels) that error messages use for the two inputs. */
export interface CaseNames {
  pred?: string;
  ref?: string;
}

const isIntegerKey = (s: string) => /^-?\d+$/.test(s);

/** Checks labels and regions and returns the [key, label values] of every entry to report. */
export function evaluationTargets(
  labels: readonly number[],
  regions: readonly Region[] = [],
): [string, number[]][] {
  const targets: [string, number[]][] = [];
  const seen = new Set<string>();
  for (const l of labels) {
    if (!Number.isInteger(l)) throw new RangeError(`label ${l} is not an integer`);
    const key = String(l);
    if (!seen.has(key)) targets.push([key, [l]]);
    seen.add(key);
  }
  for (const r of regions) {
    if (!r.name || isIntegerKey(r.name))
      throw new RangeError(`region name '${r.name}' must be a non-numeric name`);
    if (seen.has(r.name)) throw new RangeError(`region name '${r.name}' is used twice`);
    if (r.labels.length === 0) throw new RangeError(`region '${r.name}' has no labels`);
    for (const l of r.labels)
      if (!Number.isInteger(l)) throw new RangeError(`region '${r.name}': label ${l} is not an integer`);
    seen.add(r.name);
    targets.push([r.name, [...new Set(r.labels)]]);
  }
  return targets;
}

/** Voxel counts and the bounding box of P∪R of one set of label values, from the table. */
function countsOf(
  values: number[],
  pred: EncodedLabels,
  ref: EncodedLabels,
  t: LabelTable,
): { counts: Counts; inP: Uint8Array; inR: Uint8Array; box: number[] } {
  const wanted = new Set(values);
  const inP = Uint8Array.from(pred.values, (v) => (wanted.has(v) ? 1 : 0));
  const inR = Uint8Array.from(ref.values, (v) => (wanted.has(v) ? 1 : 0));
  const counts: Counts = { pred: 0, ref: 0, both: 0 };
  const box = [0x7fffffff, -1, 0x7fffffff, -1, 0x7fffffff, -1];
  const merge = (boxes: Int32Array, c: number) => {
    for (let a = 0; a < 3; a++) {
      box[2 * a] = Math.min(box[2 * a]!, boxes[c * 6 + 2 * a]!);
      box[2 * a + 1] = Math.max(box[2 * a + 1]!, boxes[c * 6 + 2 * a + 1]!);
    }
  };
  for (let cp = 0; cp < t.nPred; cp++) {
    for (let cr = 0; cr < t.nRef; cr++) {
      const n = t.counts[cp * t.nRef + cr]!;
      if (inP[cp]) counts.pred += n;
      if (inR[cr]) counts.ref += n;
      if (inP[cp] && inR[cr]) counts.both += n;
    }
  }
  for (let c = 0; c < t.nPred; c++) if (inP[c]) merge(t.predBoxes, c);
  for (let c = 0; c < t.nRef; c++) if (inR[c]) merge(t.refBoxes, c);
  return { counts, inP, inR, box };
}

/** The nonzero label values that occur in pred or ref, ascending. */
function presentLabels(p: EncodedLabels, r: EncodedLabels, t: LabelTable): number[] {
  const found = new Set<number>();
  for (let cp = 0; cp < t.nPred; cp++) {
    for (let cr = 0; cr < t.nRef; cr++) {
      if (t.counts[cp * t.nRef + cr]! > 0) {
        found.add(p.values[cp]!);
        found.add(r.values[cr]!);
      }
    }
  }
  found.delete(0);
  return [...found].sort((a, b) => a - b);
}

/**
 * Metrics of a predicted label map against a reference of the same shape, per label and region (see
 * the definitions at the top of this file). Distances use the reference's spacing. Errors
 * (EvaluationInputError) name the inputs by `names`: shape mismatch, non-integer values, bad spacing.
 */
export function evaluateCase(
  pred: LabelVolume,
  ref: LabelVolume,
  options: EvaluateOptions = {},
  names: CaseNames = {},
): CaseMetrics {
  const predName = names.pred ?? 'pred';
  const refName = names.ref ?? 'ref';
  const dims = spatialShape(ref.shape, refName);
  const pDims = spatialShape(pred.shape, predName);
  if (pDims.some((d, a) => d !== dims[a])) {
    throw new EvaluationInputError(
      `shape mismatch: ${predName} is ${pDims.join('×')} but ${refName} is ${dims.join('×')}`,
    );
  }
  const spacing = checkSpacing(ref.spacing, refName);
  const tol = checkTolerance(options.toleranceMm);
  const p = encodeLabels(pred, predName);
  const r = encodeLabels(ref, refName);
  if (p.values.length * r.values.length > MAX_PAIRS) {
    throw new EvaluationInputError(
      `${predName} has ${p.values.length} and ${refName} ${r.values.length} distinct values: too many for label maps`,
    );
  }
  const table = tabulate(p, r, dims);
  const present = presentLabels(p, r, table);
  const targets = evaluationTargets(options.labels ?? present, options.regions);
  const voxelMm3 = spacing[0] * spacing[1] * spacing[2];
  const [nx, ny] = dims;
  const out: CaseMetrics = {};
  for (const [key, values] of targets) {
    const { counts, inP, inR, box } = countsOf(values, p, r, table);
    const m = countMetrics(counts, voxelMm3);
    if (counts.pred > 0 && counts.ref > 0) {
      const [x0, x1, y0, y1, z0, z1] = box as [number, number, number, number, number, number];
      const bd: Dims = [x1 - x0 + 1, y1 - y0 + 1, z1 - z0 + 1];
      const pm = new Uint8Array(bd[0] * bd[1] * bd[2]);
      const rm = new Uint8Array(pm.length);
      let t = 0;
      for (let k = z0; k <= z1; k++) {
        for (let j = y0; j <= y1; j++) {
          const row = x0 + nx * (j + ny * k);
          for (let i = 0; i < bd[0]; i++, t++) {
            pm[t] = inP[p.codes[row + i]!]!;
            rm[t] = inR[r.codes[row + i]!]!;
          }
        }
      }
      addDistances(m, pm, rm, bd, spacing, tol);
    }
    out[key] = m;
  }
  return out;
}

/** The metrics of a label or region absent from both pred and ref (what a case without it scores). */
export function bothEmptyMetrics(): Metrics {
  return countMetrics({ pred: 0, ref: 0, both: 0 }, 1);
}
