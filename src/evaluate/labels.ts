// Label maps as compact codes: one pass turns any voxel type into Uint8 (or Uint16) codes of the
// distinct label values, checking that every value is an integer; a second pass over the two code
// maps counts the voxels of every (pred, ref) pair of values and the bounding box of every value.
// Any label or region (a union of labels) then has its voxel counts from the table, and its masks
// need only be built inside the union of its values' boxes.

/** What evaluation needs of an image (a `Volume` of src/io/volume.ts fits). */
export interface LabelVolume {
  /** Stored values, x fastest: index i + nx·(j + ny·k). */
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
  /** [nx, ny, nz], optionally a 4th dimension of 1; a 2-D [nx, ny] is taken as nz = 1. */
  shape: readonly number[];
  /** Voxel size in mm along i, j, k. */
  spacing: readonly number[];
  /** Real value = stored · sclSlope + sclInter (no scaling when absent or slope 0). */
  sclSlope?: number;
  sclInter?: number;
}

/** An input error: the message names the file (or case) it is about. */
export class EvaluationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationInputError';
  }
}

/** The spatial dimensions [nx, ny, nz] of a label map, or an error naming it. */
export function spatialShape(shape: readonly number[], name: string): [number, number, number] {
  const ok = shape.length >= 1 && shape.every((d) => Number.isInteger(d) && d >= 1);
  if (!ok) throw new EvaluationInputError(`${name}: invalid shape [${shape.join(', ')}]`);
  if (shape.length > 3 && shape.slice(3).some((d) => d !== 1)) {
    throw new EvaluationInputError(`${name}: a label map must be 3-D, got shape [${shape.join(', ')}]`);
  }
  return [shape[0]!, shape[1] ?? 1, shape[2] ?? 1];
}

/** Codes of a label map: `codes[v]` indexes `values`, the distinct label values in order of appearance. */
export interface EncodedLabels {
  codes: Uint8Array | Uint16Array;
  values: number[];
}

const MAX_LABELS = 65536;

function encodeWith(
  vol: LabelVolume,
  codes: Uint8Array | Uint16Array,
  name: string,
): { values: number[]; overflow: boolean } {
  const slope = vol.sclSlope ?? 1;
  const inter = vol.sclInter ?? 0;
  const scaled = slope !== 0 && (slope !== 1 || inter !== 0);
  const limit = codes instanceof Uint8Array ? 256 : MAX_LABELS;
  const index = new Map<number, number>();
  const values: number[] = [];
  const data = vol.data;
  const n = codes.length;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  // Label maps are long runs of one value: the map is consulted only when the stored value changes.
  let prev: number | bigint | undefined = undefined;
  let prevCode = 0;
  for (let i = 0; i < n; i++) {
    const raw = data[i]!;
    if (raw !== prev) {
      let v = typeof raw === 'bigint' ? Number(raw) : raw;
      if (scaled) v = v * slope + inter;
      if (!Number.isInteger(v)) {
        const at = voxelAt(i, vol.shape);
        throw new EvaluationInputError(
          `${name}: voxel (${at}) holds ${v}, not an integer label` +
            (scaled ? ` (stored ${String(raw)}, scl_slope ${slope}, scl_inter ${inter})` : ''),
        );
      }
      if (v === 0) v = 0; // -0 → 0
      let c = index.get(v);
      if (c === undefined) {
        if (values.length === limit) return { values, overflow: true };
        c = values.length;
        index.set(v, c);
        values.push(v);
      }
      prev = big ? raw : (raw as number);
      prevCode = c;
    }
    codes[i] = prevCode;
  }
  return { values, overflow: false };
}

function voxelAt(index: number, shape: readonly number[]): string {
  const nx = shape[0] ?? 1;
  const ny = shape[1] ?? 1;
  return `${index % nx}, ${Math.floor(index / nx) % ny}, ${Math.floor(index / (nx * ny))}`;
}

/** Encodes a label map's values as codes; non-integer values and more than 65536 labels are errors. */
export function encodeLabels(vol: LabelVolume, name: string): EncodedLabels {
  const [nx, ny, nz] = spatialShape(vol.shape, name);
  const n = nx * ny * nz;
  if (vol.data.length !== n) {
    throw new EvaluationInputError(`${name}: ${vol.data.length} values for shape [${vol.shape.join(', ')}]`);
  }
  const small = new Uint8Array(n);
  const first = encodeWith(vol, small, name);
  if (!first.overflow) return { codes: small, values: first.values };
  const wide = new Uint16Array(n);
  const second = encodeWith(vol, wide, name);
  if (second.overflow) {
    throw new EvaluationInputError(`${name}: more than ${MAX_LABELS} distinct values: not a label map`);
  }
  return { codes: wide, values: second.values };
}

/** Voxel counts of value pairs and boxes of values, from one pass over both code maps. */
export interface LabelTable {
  /** count[cp · nRef + cr]: voxels with pred code cp and ref code cr. */
  counts: Float64Array;
  nPred: number;
  nRef: number;
  /** Boxes [x0, x1, y0, y1, z0, z1] (inclusive) per code, 6 entries each; x0 > x1 when never seen. */
  predBoxes: Int32Array;
  refBoxes: Int32Array;
}

/**
 * Counts and boxes of two code maps of one shape. The box of the code of value 0 (background) is not
 * tracked: it is set to the whole image, which is always a valid (if loose) box.
 */
export function tabulate(
  pred: EncodedLabels,
  ref: EncodedLabels,
  dims: readonly [number, number, number],
): LabelTable {
  const [nx, ny, nz] = dims;
  const nPred = pred.values.length;
  const nRef = ref.values.length;
  const counts = new Float64Array(nPred * nRef);
  const predBoxes = emptyBoxes(nPred);
  const refBoxes = emptyBoxes(nRef);
  const pBg = pred.values.indexOf(0);
  const rBg = ref.values.indexOf(0);
  const P = pred.codes;
  const R = ref.codes;
  let bothBg = 0;
  let idx = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, idx++) {
        const cp = P[idx]!;
        const cr = R[idx]!;
        if (cp === pBg && cr === rBg) {
          bothBg++;
          continue;
        }
        counts[cp * nRef + cr]++;
        if (cp !== pBg) grow(predBoxes, cp * 6, i, j, k);
        if (cr !== rBg) grow(refBoxes, cr * 6, i, j, k);
      }
    }
  }
  if (pBg >= 0 && rBg >= 0) counts[pBg * nRef + rBg] += bothBg;
  const whole = [0, nx - 1, 0, ny - 1, 0, nz - 1];
  if (pBg >= 0) predBoxes.set(whole, pBg * 6);
  if (rBg >= 0) refBoxes.set(whole, rBg * 6);
  return { counts, nPred, nRef, predBoxes, refBoxes };
}

function emptyBoxes(n: number): Int32Array {
  const b = new Int32Array(n * 6);
  for (let c = 0; c < n; c++) b.set([0x7fffffff, -1, 0x7fffffff, -1, 0x7fffffff, -1], c * 6);
  return b;
}

function grow(b: Int32Array, o: number, i: number, j: number, k: number): void {
  if (i < b[o]!) b[o] = i;
  if (i > b[o + 1]!) b[o + 1] = i;
  if (j < b[o + 2]!) b[o + 2] = j;
  if (j > b[o + 3]!) b[o + 3] = j;
  if (k < b[o + 4]!) b[o + 4] = k;
  if (k > b[o + 5]!) b[o + 5] = k;
}
