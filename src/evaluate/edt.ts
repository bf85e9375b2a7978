// Exact Euclidean distance transforms on typed arrays, with anisotropic voxel spacing.
//
// The squared distance to the nearest feature voxel is separable: d²(x,y,z) = min over features of
// (Δx·sx)² + (Δy·sy)² + (Δz·sz)². One pass per axis computes it exactly (Felzenszwalb & Huttenlocher,
// "Distance Transforms of Sampled Functions", 2012): the first pass along x is a 1-D distance to the
// nearest feature on the row, the next passes take the lower envelope of the parabolas
// f(p) + ((q − p)·s)² along y and then z. Each pass is O(voxels); lines along y and z are gathered
// in tiles of adjacent x so that every cache line read is used whole.

/** Voxel counts along x, y, z of a box; x is fastest in memory (index i + nx·(j + ny·k)). */
export type Dims = readonly [number, number, number];
export type Spacing = readonly [number, number, number];

/** Lines of adjacent x gathered together in the y and z passes. */
const TILE = 16;

/** Pass along x: squared distance (mm²) to the nearest feature on the same row, Infinity if none. */
function passX(features: Uint8Array, dims: Dims, sx: number, out: Float64Array): void {
  const [nx, ny, nz] = dims;
  const rows = ny * nz;
  for (let r = 0; r < rows; r++) {
    const base = r * nx;
    // Forward sweep: distance in voxels to the last feature at or before i.
    let last = -1;
    for (let i = 0; i < nx; i++) {
      if (features[base + i] !== 0) last = i;
      out[base + i] = last < 0 ? Infinity : i - last;
    }
    if (last < 0) continue; // no feature on this row: all Infinity
    // Backward sweep: the next feature at or after i, then square in mm.
    let next = -1;
    for (let i = nx - 1; i >= 0; i--) {
      if (features[base + i] !== 0) next = i;
      let d = out[base + i]!;
      if (next >= 0 && next - i < d) d = next - i;
      const mm = d * sx;
      out[base + i] = d === Infinity ? Infinity : mm * mm;
    }
  }
}

/** Work buffers of the 1-D lower envelope, for lines up to n long. */
class Envelope {
  readonly v: Int32Array;
  readonly z: Float64Array;
  readonly g: Float64Array;
  readonly h: Float64Array;
  constructor(n: number) {
    this.v = new Int32Array(n);
    this.z = new Float64Array(n + 1);
    this.g = new Float64Array(n);
    this.h = new Float64Array(n);
  }

  /**
   * In place on f[off .. off+n-1]: f[q] ← min over p of f[p] + ((q − p)·s)². Infinity entries are
   * no parabola; a line that is Infinity everywhere stays so.
   */
  run(f: Float64Array, off: number, n: number, s: number): void {
    const { v, z, g, h } = this;
    const w = s * s;
    const w2 = 2 * w;
    let k = -1;
    for (let q = 0; q < n; q++) {
      const fq = f[off + q]!;
      if (fq === Infinity) continue;
      const gq = fq + w * q * q;
      // Pop the parabolas that the one from q lies below from their left boundary z[k] on:
      // (gq − g[k]) / (2w(q − v[k])) ≤ z[k], multiplied out (the denominator is positive).
      while (k > 0 && gq - g[k]! <= z[k]! * (w2 * (q - v[k]!))) k--;
      k++;
      v[k] = q;
      g[k] = gq;
      h[k] = fq;
      z[k] = k === 0 ? -Infinity : (gq - g[k - 1]!) / (w2 * (q - v[k - 1]!));
    }
    if (k < 0) return;
    z[k + 1] = Infinity;
    // h holds the parabolas' own f values, so the line can be overwritten.
    let m = 0;
    for (let q = 0; q < n; q++) {
      while (z[m + 1]! < q) m++;
      const mm = (q - v[m]!) * s;
      f[off + q] = mm * mm + h[m]!;
    }
  }
}

/**
 * One envelope pass along the axis with element stride `stride` and `n` elements, over every line of
 * the box: lines start at offsets 0..width-1 of each of `outer` blocks `block` elements apart. With
 * `wanted` (one entry per offset), only the lines whose entry is nonzero are transformed.
 */
function passAxis(
  a: Float64Array,
  width: number,
  n: number,
  stride: number,
  outer: number,
  block: number,
  s: number,
  env: Envelope,
  tile: Float64Array,
  wanted?: Uint8Array,
): void {
  for (let o = 0; o < outer; o++) {
    const base0 = o * block;
    for (let x0 = 0; x0 < width; x0 += TILE) {
      const t = Math.min(TILE, width - x0);
      if (wanted) {
        let need = false;
        for (let l = 0; l < t; l++) if (wanted[x0 + l] !== 0) need = true;
        if (!need) continue;
      }
      // Gather t adjacent lines: tile[l*n + q] = a[base0 + x0 + l + q*stride].
      let any = false;
      for (let q = 0; q < n; q++) {
        const src = base0 + x0 + q * stride;
        for (let l = 0; l < t; l++) {
          const val = a[src + l]!;
          tile[l * n + q] = val;
          if (val !== Infinity) any = true;
        }
      }
      if (!any) continue;
      for (let l = 0; l < t; l++) env.run(tile, l * n, n, s);
      for (let q = 0; q < n; q++) {
        const dst = base0 + x0 + q * stride;
        for (let l = 0; l < t; l++) a[dst + l] = tile[l * n + q]!;
      }
    }
  }
}

/**
 * Squared Euclidean distance in mm² from every voxel of the box to the nearest voxel where
 * `features` is nonzero (0 on features), Infinity everywhere when there is no feature. Exact.
 */
export function squaredEdt(
  features: Uint8Array,
  dims: Dims,
  spacing: Spacing,
  out?: Float64Array,
): Float64Array {
  const [nx, ny, nz] = dims;
  const total = nx * ny * nz;
  if (features.length !== total)
    throw new Error(`squaredEdt: ${features.length} features for a ${dims.join('×')} box`);
  const a = out ?? new Float64Array(total);
  if (a.length < total) throw new Error(`squaredEdt: output of ${a.length} for a ${dims.join('×')} box`);
  passX(features, dims, spacing[0], a);
  const longest = Math.max(ny, nz);
  const env = new Envelope(longest);
  const tile = new Float64Array(TILE * longest);
  if (ny > 1) passAxis(a, nx, ny, nx, nz, nx * ny, spacing[1], env, tile);
  if (nz > 1) passAxis(a, nx * ny, nz, nx * ny, 1, 0, spacing[2], env, tile);
  return a;
}

/**
 * The distance in mm from each voxel where `queries` is nonzero to the nearest voxel where `features`
 * is nonzero, in order of the queries' linear index; Infinity when there is no feature. Same result as
 * `squaredEdt` then a square root at the queries, but the last pass runs only over the z columns
 * holding a query. `work` (at least the box size) is reused as the transform buffer when given.
 */
export function distancesAt(
  features: Uint8Array,
  queries: Uint8Array,
  dims: Dims,
  spacing: Spacing,
  work?: Float64Array,
): Float64Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const total = plane * nz;
  if (features.length !== total || queries.length !== total) {
    throw new Error(
      `distancesAt: masks of ${features.length} and ${queries.length} for a ${dims.join('×')} box`,
    );
  }
  let count = 0;
  for (let i = 0; i < total; i++) if (queries[i] !== 0) count++;
  const result = new Float64Array(count);
  if (count === 0) return result;
  const a = work && work.length >= total ? work : new Float64Array(total);
  passX(features, dims, spacing[0], a);
  const longest = Math.max(ny, nz);
  const env = new Envelope(longest);
  const tile = new Float64Array(TILE * longest);
  if (ny > 1) passAxis(a, nx, ny, nx, nz, plane, spacing[1], env, tile);
  if (nz > 1) {
    // Which (x, y) columns hold a query; only those are transformed along z.
    const wanted = new Uint8Array(plane);
    for (let k = 0; k < nz; k++) {
      const off = k * plane;
      for (let c = 0; c < plane; c++) if (queries[off + c] !== 0) wanted[c] = 1;
    }
    passAxis(a, plane, nz, plane, 1, 0, spacing[2], env, tile, wanted);
  }
  let r = 0;
  for (let i = 0; i < total; i++) if (queries[i] !== 0) result[r++] = Math.sqrt(a[i]!);
  return result;
}
