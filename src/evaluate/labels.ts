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

/**
 * Codes of a label map: `codes[v]` indexes `values`, the label values. Value 0 always has code 0
 * (its count may be 0); other values may be listed without occurring.
 */
export interface EncodedLabels {
  codes: Uint8Array | Uint16Array;
  values: number[];
}

const MAX_LABELS = 65536;

interface Scaling {
  scaled: boolean;
  slope: number;
  inter: number;
}

function badValue(
  i: number,
  v: number,
  raw: number | bigint,
  vol: LabelVolume,
  sc: Scaling,
  name: string,
): Error {
  return new EvaluationInputError(
    `${name}: voxel (${voxelAt(i, vol.shape)}) holds ${v}, not an integer label` +
      (sc.scaled ? ` (stored ${String(raw)}, scl_slope ${sc.slope}, scl_inter ${sc.inter})` : ''),
  );
}

/** Encodes number-typed data; false when more than codes can hold. Label maps are long runs of one
 * value, so the map is consulted only where the stored value changes. */
function encodeNumbers(
  data: ArrayLike<number>,
  codes: Uint8Array | Uint16Array,
  values: number[],
  sc: Scaling,
  vol: LabelVolume,
  name: string,
): boolean {
  const limit = codes instanceof Uint8Array ? 256 : MAX_LABELS;
  const index = new Map<number, number>([[0, 0]]);
  const n = codes.length;
  let prev = NaN;
  let prevCode = 0;
  for (let i = 0; i < n; i++) {
    const raw = data[i]!;
    if (raw !== prev) {
      const v = sc.scaled ? raw * sc.slope + sc.inter : raw;
      if (!Number.isInteger(v)) throw badValue(i, v, raw, vol, sc, name);
      let c = index.get(v === 0 ? 0 : v);
      if (c === undefined) {
        if (values.length === limit) return false;
        c = values.length;
        index.set(v, c);
        values.push(v);
      }
      prev = raw;
      prevCode = c;
    }
    codes[i] = prevCode;
  }
  return true;
}

function encodeBigInts(
  data: BigInt64Array | BigUint64Array,
  codes: Uint8Array | Uint16Array,
  values: number[],
  sc: Scaling,
  vol: LabelVolume,
  name: string,
): boolean {
  const limit = codes instanceof Uint8Array ? 256 : MAX_LABELS;
  const index = new Map<number, number>([[0, 0]]);
  const n = codes.length;
  let prev: bigint | undefined = undefined;
  let prevCode = 0;
  for (let i = 0; i < n; i++) {
    const raw = data[i]!;
    if (raw !== prev) {
      const x = Number(raw);
      const v = sc.scaled ? x * sc.slope + sc.inter : x;
      if (!Number.isInteger(v)) throw badValue(i, v, raw, vol, sc, name);
      let c = index.get(v === 0 ? 0 : v);
      if (c === undefined) {
        if (values.length === limit) return false;
        c = values.length;
        index.set(v, c);
        values.push(v);
      }
      prev = raw;
      prevCode = c;
    }
    codes[i] = prevCode;
  }
  return true;
}

function voxelAt(index: number, shape: readonly number[]): string {
  const nx = shape[0] ?? 1;
  const ny = shape[1] ?? 1;
  return `${index % nx}, ${Math.floor(index / nx) % ny}, ${Math.floor(index / (nx * ny))}`;
}

/**
 * Encodes a label map's values as codes; non-integer values and more than 65536 labels are errors.
 * Unscaled uint8 data is its own code map (no copy).
 */
export function encodeLabels(vol: LabelVolume, name: string): EncodedLabels {
  const [nx, ny, nz] = spatialShape(vol.shape, name);
  const n = nx * ny * nz;
  const data = vol.data;
  if (data.length !== n) {
    throw new EvaluationInputError(`${name}: ${data.length} values for shape [${vol.shape.join(', ')}]`);
  }
  const slope = vol.sclSlope ?? 1;
  const inter = vol.sclInter ?? 0;
  const sc: Scaling = { scaled: slope !== 0 && (slope !== 1 || inter !== 0), slope, inter };
  if (data instanceof Uint8Array && !sc.scaled) {
    return { codes: data, values: Array.from({ length: 256 }, (_, v) => v) };
  }
  const encode = (codes: Uint8Array | Uint16Array, values: number[]) =>
    data instanceof BigInt64Array || data instanceof BigUint64Array
      ? encodeBigInts(data, codes, values, sc, vol, name)
      : encodeNumbers(data as ArrayLike<number>, codes, values, sc, vol, name);
  const small = new Uint8Array(n);
  let values = [0];
  if (encode(small, values)) return { codes: small, values };
  const wide = new Uint16Array(n);
  values = [0];
  if (!encode(wide, values)) {
    throw new EvaluationInputError(`${name}: more than ${MAX_LABELS} distinct values: not a label map`);
  }
  return { codes: wide, values };
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
 * Counts and boxes of two code maps of one shape. The box of code 0 (value 0, the background) is not
 * tracked: it is set to the whole image, which is always a valid (if loose) box. Runs of background
 * in both maps are skipped a 32-bit word at a time.
 */
export function tabulate(
  pred: EncodedLabels,
  ref: EncodedLabels,
  dims: readonly [number, number, number],
): LabelTable {
  const [nx, ny, nz] = dims;
  const total = nx * ny * nz;
  const nPred = pred.values.length;
  const nRef = ref.values.length;
  const counts = new Float64Array(nPred * nRef);
  const predBoxes = emptyBoxes(nPred);
  const refBoxes = emptyBoxes(nRef);
  const P = pred.codes;
  const R = ref.codes;
  const visit = (idx: number, i: number, j: number, k: number) => {
    const cp = P[idx]!;
    const cr = R[idx]!;
    if (cp === 0 && cr === 0) return;
    counts[cp * nRef + cr]++;
    if (cp !== 0) grow(predBoxes, cp * 6, i, j, k);
    if (cr !== 0) grow(refBoxes, cr * 6, i, j, k);
  };
  // Rows are scanned a 32-bit word (4 uint8 or 2 uint16 codes) at a time where they line up.
  const per = 4 / P.BYTES_PER_ELEMENT;
  const words =
    P.BYTES_PER_ELEMENT === R.BYTES_PER_ELEMENT &&
    P.byteOffset % 4 === 0 &&
    R.byteOffset % 4 === 0 &&
    nx % per === 0;
  const P32 = words ? new Uint32Array(P.buffer, P.byteOffset, Math.floor(total / per)) : undefined;
  const R32 = words ? new Uint32Array(R.buffer, R.byteOffset, Math.floor(total / per)) : undefined;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = nx * (j + ny * k);
      if (P32 && R32) {
        for (let w = row / per, end = (row + nx) / per; w < end; w++) {
          if ((P32[w]! | R32[w]!) === 0) continue;
          for (let idx = w * per, last = idx + per; idx < last; idx++) visit(idx, idx - row, j, k);
        }
      } else {
        for (let i = 0; i < nx; i++) visit(row + i, i, j, k);
      }
    }
  }
  let seen = 0;
  for (let c = 0; c < counts.length; c++) seen += counts[c]!;
  counts[0] = total - seen; // background in both
  const whole = [0, nx - 1, 0, ny - 1, 0, nz - 1];
  predBoxes.set(whole, 0);
  refBoxes.set(whole, 0);
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
