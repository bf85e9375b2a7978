// Connected-component labelling of 3D masks and label maps, on typed arrays, with no per-voxel objects.
//
// Volumes are [D, H, W] in array order (W, the x axis, fastest in memory). The algorithm is run based:
//  1. scan: every row (z, y) is cut into runs, maximal stretches of foreground voxels along x (in the
//     per-value mode: maximal stretches of one nonzero value, joined only to runs of the same value);
//  2. union: each run is merged, by union-find over run indices, with the runs it touches in the already
//     scanned neighbour rows, (z, y-1), (z-1, y-1), (z-1, y), (z-1, y+1) as the connectivity needs; a
//     two-pointer sweep over the two sorted run lists finds the touching pairs, and the root of a set is
//     always its smallest run index (union links the larger root under the smaller), with path halving;
//  3. resolve: one forward pass over the runs turns roots into ids 1..n in raster order of each
//     component's first voxel (parent[i] <= i always holds, so a run's root has its id already).
// The work is proportional to the number of voxels scanned (4 bytes at a time over empty stretches of
// a Uint8Array) plus the number of runs; memory is 12 bytes a run (start, end, parent; 16 with the value)
// plus, for labelComponents only, the Int32Array of ids.
import { Tensor } from '../engine/tensor.js';

/** 6: faces; 18: faces and edges; 26: faces, edges and corners (scipy's generate_binary_structure(3, 1/2/3)). */
export type Connectivity = 6 | 18 | 26;

/** Integer label maps as the engine's toArray gives them (int64 maps: convert to int32 first). */
export type LabelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array;

export interface LabelOptions {
  /** default 26 */
  connectivity?: Connectivity;
}

export interface Components {
  /** Component id of every voxel: 0 background, 1..count in raster order of each component's first voxel. */
  labels: Int32Array;
  /** Number of components. */
  count: number;
  /** sizes[id] = voxel count of component id (index 0 unused, 0). */
  sizes: Float64Array;
  /**
   * Bounding boxes, 6 int32s per id (index 0 unused): [z0, y0, x0, z1, y1, x1], start inclusive and stop
   * exclusive, like the slices of scipy.ndimage.find_objects.
   */
  bboxes: Int32Array;
  /** The [D, H, W] shape used. */
  shape: [number, number, number];
}

export interface BoundingBox {
  start: [number, number, number];
  stop: [number, number, number];
}

/** The bounding box of component `id` as start (inclusive) and stop (exclusive) corners, [z, y, x]. */
export function boundingBox(c: Components, id: number): BoundingBox {
  if (!Number.isInteger(id) || id < 1 || id > c.count)
    throw new RangeError(`no component ${id} (1..${c.count})`);
  const b = c.bboxes;
  const o = id * 6;
  return { start: [b[o]!, b[o + 1]!, b[o + 2]!], stop: [b[o + 3]!, b[o + 4]!, b[o + 5]!] };
}

/** A [D, H, W] shape from a 1-, 2- or 3-dimensional one (leading 1s added), checked against `length`. */
export function volumeShape(shape: readonly number[], length: number): [number, number, number] {
  if (shape.length < 1 || shape.length > 3)
    throw new RangeError(`expected a 1-3D shape, got [${shape.join(', ')}]`);
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`bad shape [${shape.join(', ')}]`);
  }
  const s3 = [1, 1, ...shape].slice(-3) as [number, number, number];
  const n = s3[0] * s3[1] * s3[2];
  if (n !== length)
    throw new RangeError(`shape [${shape.join(', ')}] has ${n} voxels but the data has ${length}`);
  return s3;
}

/** Throws a TypeError unless `a` is one of the LabelArray types (int64 maps: `tensor.to('int32')` first). */
export function checkLabelArray(a: unknown, what = 'label map'): asserts a is LabelArray {
  if (
    a instanceof Uint8Array ||
    a instanceof Int8Array ||
    a instanceof Uint16Array ||
    a instanceof Int16Array ||
    a instanceof Int32Array
  )
    return;
  const name = (a as object | null)?.constructor?.name ?? typeof a;
  throw new TypeError(
    `${what}: expected Uint8Array, Int8Array, Uint16Array, Int16Array or Int32Array, got ${name}` +
      (a instanceof BigInt64Array
        ? " (convert int64 label maps to int32 first, e.g. tensor.to('int32'))"
        : ''),
  );
}

export function checkConnectivity(c: number | undefined): Connectivity {
  const v = c ?? 26;
  if (v !== 6 && v !== 18 && v !== 26) throw new RangeError(`connectivity must be 6, 18 or 26, got ${c}`);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// The run table and its three passes. Exported for largestComponent.ts; not part of the public API.

/** @internal Runs of one volume, in raster order, with their component ids once resolved. */
export interface RunTable {
  D: number;
  H: number;
  W: number;
  /** number of runs */
  n: number;
  /** x start of each run (inclusive) */
  start: Int32Array;
  /** x end of each run (exclusive) */
  end: Int32Array;
  /** the voxel value of each run (per-value mode only) */
  value: Int32Array | null;
  /** runs of row r = z * H + y are rowPtr[r] .. rowPtr[r + 1] - 1 */
  rowPtr: Int32Array;
  /** after resolve(): the component id (1..count) of each run */
  comp: Int32Array;
  count: number;
}

class RunBuilder {
  n = 0;
  start: Int32Array;
  end: Int32Array;
  value: Int32Array | null;
  constructor(capacity: number, withValue: boolean) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.value = withValue ? new Int32Array(capacity) : null;
  }
  grow(): void {
    const cap = this.start.length * 2;
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.start = g(this.start);
    this.end = g(this.end);
    if (this.value) this.value = g(this.value);
  }
}

function initialCapacity(voxels: number): number {
  return Math.max(1024, Math.min(Math.ceil(voxels / 2) + 1, voxels >>> 6));
}

/** Runs of nonzero bytes; empty and full stretches are skipped 4 bytes at a time where aligned. */
function scanBinaryU8(mask: Uint8Array, D: number, H: number, W: number, rowPtr: Int32Array): RunBuilder {
  const rb = new RunBuilder(initialCapacity(mask.length), false);
  let start = rb.start;
  let end = rb.end;
  let cap = start.length;
  let n = 0;
  const words =
    mask.byteOffset % 4 === 0 ? new Int32Array(mask.buffer, mask.byteOffset, mask.length >>> 2) : null;
  const rows = D * H;
  for (let r = 0; r < rows; r++) {
    rowPtr[r] = n;
    const base = r * W;
    const rowEnd = base + W;
    let i = base;
    while (i < rowEnd) {
      // background
      if (words !== null) {
        while (i < rowEnd && (i & 3) !== 0 && mask[i] === 0) i++;
        if ((i & 3) === 0) {
          while (i + 4 <= rowEnd && words[i >>> 2] === 0) i += 4;
        }
      }
      while (i < rowEnd && mask[i] === 0) i++;
      if (i >= rowEnd) break;
      const s = i;
      // foreground: a word with no zero byte is 4 foreground voxels
      if (words !== null) {
        while (i < rowEnd && (i & 3) !== 0 && mask[i] !== 0) i++;
        if ((i & 3) === 0) {
          for (;;) {
            if (i + 4 > rowEnd) break;
            const v = words[i >>> 2]!;
            if (((v - 0x01010101) & ~v & 0x80808080) !== 0) break;
            i += 4;
          }
        }
      }
      while (i < rowEnd && mask[i] !== 0) i++;
      if (n === cap) {
        rb.n = n;
        rb.grow();
        start = rb.start;
        end = rb.end;
        cap = start.length;
      }
      start[n] = s - base;
      end[n] = i - base;
      n++;
    }
  }
  rowPtr[rows] = n;
  rb.n = n;
  return rb;
}

/** Runs of nonzero voxels of any integer array. */
function scanBinary(a: LabelArray, D: number, H: number, W: number, rowPtr: Int32Array): RunBuilder {
  const rb = new RunBuilder(initialCapacity(a.length), false);
  let start = rb.start;
  let end = rb.end;
  let n = 0;
  const rows = D * H;
  for (let r = 0; r < rows; r++) {
    rowPtr[r] = n;
    const base = r * W;
    const rowEnd = base + W;
    let i = base;
    while (i < rowEnd) {
      while (i < rowEnd && a[i] === 0) i++;
      if (i >= rowEnd) break;
      const s = i;
      while (i < rowEnd && a[i] !== 0) i++;
      if (n === start.length) {
        rb.n = n;
        rb.grow();
        start = rb.start;
        end = rb.end;
      }
      start[n] = s - base;
      end[n] = i - base;
      n++;
    }
  }
  rowPtr[rows] = n;
  rb.n = n;
  return rb;
}

/** Runs of one nonzero value each. */
function scanValues(a: LabelArray, D: number, H: number, W: number, rowPtr: Int32Array): RunBuilder {
  const rb = new RunBuilder(initialCapacity(a.length), true);
  let start = rb.start;
  let end = rb.end;
  let value = rb.value!;
  let n = 0;
  const rows = D * H;
  for (let r = 0; r < rows; r++) {
    rowPtr[r] = n;
    const base = r * W;
    const rowEnd = base + W;
    let i = base;
    while (i < rowEnd) {
      while (i < rowEnd && a[i] === 0) i++;
      if (i >= rowEnd) break;
      const s = i;
      const v = a[i]!;
      while (i < rowEnd && a[i] === v) i++;
      if (n === start.length) {
        rb.n = n;
        rb.grow();
        start = rb.start;
        end = rb.end;
        value = rb.value!;
      }
      start[n] = s - base;
      end[n] = i - base;
      value[n] = v;
      n++;
    }
  }
  rowPtr[rows] = n;
  rb.n = n;
  return rb;
}

/** Neighbour rows already scanned, as [dz, dy, dx reach (0: overlap needed, 1: diagonal touch counts)]. */
function neighbourRows(conn: Connectivity): readonly (readonly [number, number, number])[] {
  switch (conn) {
    case 6:
      return [
        [0, -1, 0],
        [-1, 0, 0],
      ];
    case 18:
      return [
        [0, -1, 1],
        [-1, 0, 1],
        [-1, -1, 0],
        [-1, 1, 0],
      ];
    case 26:
      return [
        [0, -1, 1],
        [-1, -1, 1],
        [-1, 0, 1],
        [-1, 1, 1],
      ];
  }
}

/** Finds the root of x with path halving; roots are the smallest index of their set. */
function find(parent: Int32Array, x: number): number {
  let p = parent[x]!;
  while (p !== x) {
    const g = parent[p]!;
    parent[x] = g;
    x = g;
    p = parent[x]!;
  }
  return x;
}

/**
 * Unions every run with the touching runs of its row's earlier neighbour rows. For each row, one sweep
 * over its runs advances one pointer per neighbour row (both lists are sorted by x); the root of the
 * current run is kept in a local, since only this sweep links it.
 */
function unionRuns(
  parent: Int32Array,
  start: Int32Array,
  end: Int32Array,
  value: Int32Array | null,
  rowPtr: Int32Array,
  D: number,
  H: number,
  conn: Connectivity,
): void {
  const nbs = neighbourRows(conn);
  const ptr = new Int32Array(4);
  const lim = new Int32Array(4);
  const reach = new Int32Array(4);
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      const r = z * H + y;
      const a0 = rowPtr[r]!;
      const a1 = rowPtr[r + 1]!;
      if (a0 === a1) continue;
      let K = 0;
      for (const [dz, dy, rch] of nbs) {
        const zz = z + dz;
        const yy = y + dy;
        if (zz < 0 || yy < 0 || yy >= H) continue;
        const q = zz * H + yy;
        if (rowPtr[q] === rowPtr[q + 1]) continue;
        ptr[K] = rowPtr[q]!;
        lim[K] = rowPtr[q + 1]!;
        reach[K] = rch;
        K++;
      }
      if (K === 0) continue;
      for (let i = a0; i < a1; i++) {
        const si = start[i]!;
        const ei = end[i]!;
        let ri = i;
        for (let k = 0; k < K; k++) {
          const rch = reach[k]!;
          const b1 = lim[k]!;
          const s = si - rch;
          const e = ei + rch;
          let j = ptr[k]!;
          while (j < b1 && end[j]! <= s) j++;
          ptr[k] = j;
          for (let t = j; t < b1 && start[t]! < e; t++) {
            if (value !== null && value[t] !== value[i]) continue;
            let rt = parent[t]!;
            if (rt === ri) continue;
            rt = find(parent, rt);
            if (rt < ri) {
              parent[ri] = rt;
              ri = rt;
            } else if (ri < rt) parent[rt] = ri;
          }
        }
        parent[i] = ri;
      }
    }
  }
}

/** @internal Scans, unions and resolves the runs of a volume. */
export function buildRuns(
  data: LabelArray,
  shape: readonly number[],
  conn: Connectivity,
  perValue: boolean,
): RunTable {
  checkLabelArray(data);
  const [D, H, W] = volumeShape(shape, data.length);
  const rowPtr = new Int32Array(D * H + 1);
  const rb = perValue
    ? scanValues(data, D, H, W, rowPtr)
    : data instanceof Uint8Array
      ? scanBinaryU8(data, D, H, W, rowPtr)
      : scanBinary(data, D, H, W, rowPtr);
  const { n, start, end, value } = rb;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  unionRuns(parent, start, end, value, rowPtr, D, H, conn);
  // resolve in place: parent[i] <= i, so parent[parent[i]] already holds the id of i's root
  let count = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    parent[i] = p === i ? ++count : parent[p]!;
  }
  return { D, H, W, n, start, end, value, rowPtr, comp: parent, count };
}

/** @internal Voxel counts per component id (index 0 unused). */
export function componentSizes(t: RunTable): Float64Array {
  const sizes = new Float64Array(t.count + 1);
  const { start, end, comp } = t;
  for (let i = 0; i < t.n; i++) sizes[comp[i]!] += end[i]! - start[i]!;
  return sizes;
}

/** The bytes of a bool/uint8 (or any) tensor's nonzero mask, with its shape. */
function maskOfTensor(t: Tensor): { data: Uint8Array; shape: readonly number[] } {
  const shape = t.shape;
  if ((t.dtype === 'uint8' || t.dtype === 'bool') && t.device === 'cpu' && t.isContiguous) {
    return { data: t.dataView() as Uint8Array, shape };
  }
  const own: Tensor[] = [];
  try {
    let m = t;
    if (m.device !== 'cpu') own.push((m = m.to('cpu')));
    if (m.dtype !== 'uint8' && m.dtype !== 'bool') own.push((m = m.ne(0)));
    return { data: m.toArray() as Uint8Array, shape };
  } finally {
    for (const o of own) o.dispose();
  }
}

/**
 * Labels the connected components of a binary mask (nonzero = foreground), [D, H, W] (1- and 2-D
 * shapes get leading 1s). A Tensor mask may be bool or uint8 (other dtypes: nonzero), on any device.
 */
export function labelComponents(mask: Tensor, options?: LabelOptions): Components;
export function labelComponents(
  mask: LabelArray,
  shape: readonly number[],
  options?: LabelOptions,
): Components;
export function labelComponents(
  mask: Tensor | LabelArray,
  shapeOrOptions?: readonly number[] | LabelOptions,
  maybeOptions?: LabelOptions,
): Components {
  let data: LabelArray;
  let shape: readonly number[];
  let options: LabelOptions | undefined;
  if (mask instanceof Tensor) {
    ({ data, shape } = maskOfTensor(mask));
    options = shapeOrOptions as LabelOptions | undefined;
  } else {
    if (!Array.isArray(shapeOrOptions))
      throw new TypeError('labelComponents(array, shape, options): shape missing');
    data = mask;
    shape = shapeOrOptions;
    options = maybeOptions;
  }
  const conn = checkConnectivity(options?.connectivity);
  const t = buildRuns(data, shape, conn, false);
  const { H, W, start, end, rowPtr, comp, count } = t;
  const labels = new Int32Array(data.length);
  const sizes = new Float64Array(count + 1);
  const bboxes = new Int32Array((count + 1) * 6);
  for (let id = 1; id <= count; id++) {
    const o = id * 6;
    bboxes[o] = bboxes[o + 1] = bboxes[o + 2] = 0x7fffffff;
  }
  const rows = t.D * H;
  for (let r = 0; r < rows; r++) {
    const i1 = rowPtr[r + 1]!;
    let i = rowPtr[r]!;
    if (i === i1) continue;
    const z = Math.floor(r / H);
    const y = r - z * H;
    const base = r * W;
    for (; i < i1; i++) {
      const id = comp[i]!;
      const s = start[i]!;
      const e = end[i]!;
      sizes[id] += e - s;
      if (e - s > 16) labels.fill(id, base + s, base + e);
      else for (let k = base + s; k < base + e; k++) labels[k] = id;
      const o = id * 6;
      if (z < bboxes[o]!) bboxes[o] = z;
      if (y < bboxes[o + 1]!) bboxes[o + 1] = y;
      if (s < bboxes[o + 2]!) bboxes[o + 2] = s;
      if (z >= bboxes[o + 3]!) bboxes[o + 3] = z + 1;
      if (y >= bboxes[o + 4]!) bboxes[o + 4] = y + 1;
      if (e > bboxes[o + 5]!) bboxes[o + 5] = e;
    }
  }
  return { labels, count, sizes, bboxes, shape: [t.D, H, W] };
}

/** Counts the connected components of a mask without writing a voxel-id volume. */
export function countComponents(mask: LabelArray, shape: readonly number[], options?: LabelOptions): number {
  return buildRuns(mask, shape, checkConnectivity(options?.connectivity), false).count;
}
