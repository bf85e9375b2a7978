// Channel-first float32 volumes as plain arrays — [C, ...spatial] in C order (the last axis
// fastest) — and the cropping, padding, flipping and resampling that preprocessing and the sliding
// window need, without libtorch. Resampling reproduces libtorch's F.interpolate (align_corners
// false): linear and bicubic (A = -0.75, borders clamped) use its source-index formula, computed in
// float32 as libtorch does, and 'nearest' its floor(dst · in/out) rule; both are separable, so each
// axis is resampled on its own.

import { majorityOrZero, type CropRule } from '../common/background.js';

export interface ChannelVolume {
  data: Float32Array;
  channels: number;
  /** Spatial shape (z, y, x) or (y, x). */
  shape: number[];
}

export type BBox = [number, number][];

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function channelVolume(data: Float32Array, channels: number, shape: number[]): ChannelVolume {
  if (data.length !== channels * numel(shape))
    throw new Error(`volume: ${data.length} values for ${channels} × [${shape}]`);
  return { data, channels, shape };
}

/** Channel c as its own volume (a view, not a copy). */
export function channelOf(v: ChannelVolume, c: number): Float32Array {
  const n = numel(v.shape);
  return v.data.subarray(c * n, (c + 1) * n);
}

/**
 * Copies the box `lo..lo+size` of every channel (spatial rank 3) into a new volume; parts of the box
 * outside the source are `fill`. With `into`, writes into that array instead (at `offset`).
 */
export function extractBox(
  v: ChannelVolume,
  lo: number[],
  size: number[],
  fill = 0,
  into?: Float32Array,
  offset = 0,
): Float32Array {
  const [D, H, W] = v.shape as [number, number, number];
  const [sd, sh, sw] = size as [number, number, number];
  const out = into ?? new Float32Array(v.channels * sd * sh * sw);
  if (fill !== 0) out.fill(fill, offset, offset + v.channels * sd * sh * sw);
  const x0 = Math.max(0, lo[2]!);
  const x1 = Math.min(W, lo[2]! + sw);
  for (let c = 0; c < v.channels; c++)
    for (let z = 0; z < sd; z++) {
      const zs = lo[0]! + z;
      if (zs < 0 || zs >= D) continue;
      for (let y = 0; y < sh; y++) {
        const ys = lo[1]! + y;
        if (ys < 0 || ys >= H || x1 <= x0) continue;
        const src = ((c * D + zs) * H + ys) * W;
        const dst = offset + ((c * sd + z) * sh + y) * sw + (x0 - lo[2]!);
        out.set(v.data.subarray(src + x0, src + x1), dst);
      }
    }
  return out;
}

/** Spatial rank 2 or 3 as rank 3 (a leading axis of 1). */
export function asRank3(v: ChannelVolume): ChannelVolume {
  return v.shape.length === 3 ? v : { ...v, shape: [1, ...v.shape] };
}

/** The crop of a box (rank 3). */
export function cropVolume(v: ChannelVolume, box: BBox): ChannelVolume {
  const size = box.map(([a, b]) => b - a);
  return {
    data: extractBox(
      v,
      box.map(([a]) => a),
      size,
    ),
    channels: v.channels,
    shape: size,
  };
}

/** Inverse of cropVolume: x placed at `box` in a volume of `shape`, `fill[c]` elsewhere. */
export function uncropVolume(x: ChannelVolume, box: BBox, shape: number[], fill: number[]): ChannelVolume {
  const out = new Float32Array(x.channels * numel(shape));
  const n = numel(shape);
  for (let c = 0; c < x.channels; c++) if (fill[c]) out.fill(fill[c]!, c * n, (c + 1) * n);
  pasteBox(
    out,
    x.channels,
    shape,
    x,
    box.map(([a]) => a),
  );
  return { data: out, channels: x.channels, shape };
}

/** Writes x (rank 3) into `dst` ([C, ...shape]) at corner `lo`. */
export function pasteBox(
  dst: Float32Array,
  channels: number,
  shape: number[],
  x: ChannelVolume,
  lo: number[],
): void {
  const [D, H, W] = shape as [number, number, number];
  const [sd, sh, sw] = x.shape as [number, number, number];
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < sd; z++)
      for (let y = 0; y < sh; y++) {
        const src = ((c * sd + z) * sh + y) * sw;
        dst.set(x.data.subarray(src, src + sw), ((c * D + lo[0]! + z) * H + lo[1]! + y) * W + lo[2]!);
      }
}

/** Bounding box of voxels where any channel is non-zero; the whole volume when none is. */
export function nonzeroBBox(v: ChannelVolume): BBox {
  return foregroundBBox(v, new Array<number>(v.channels).fill(0));
}

/**
 * Per channel of a [C, z, y, x] volume, the value of where nothing was imaged (common/background.ts,
 * as grid/crop.ts's backgroundValues): 0 under the nonzero rule; under the background rule the value
 * of most of the border, else 0.
 */
export function backgroundValuesArray(v: ChannelVolume, rule: CropRule): number[] {
  if (rule === 'nonzero') return new Array<number>(v.channels).fill(0);
  const [D, H, W] = v.shape as [number, number, number];
  const n = D * H * W;
  // the faces of every axis longer than 2 (edges counted once per face, as grid/crop.ts does): an
  // axis of 1 or 2 voxels (a 2D image stored as 3D) has no inside, so its faces are not border
  const out: number[] = [];
  for (let c = 0; c < v.channels; c++) {
    const border: number[] = [];
    const a = v.data.subarray(c * n, (c + 1) * n);
    const at = (z: number, y: number, x: number) => a[(z * H + y) * W + x]!;
    if (D > 2)
      for (const z of [0, D - 1])
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) border.push(at(z, y, x));
    if (H > 2)
      for (let z = 0; z < D; z++)
        for (const y of [0, H - 1]) for (let x = 0; x < W; x++) border.push(at(z, y, x));
    if (W > 2)
      for (let z = 0; z < D; z++)
        for (let y = 0; y < H; y++) for (const x of [0, W - 1]) border.push(at(z, y, x));
    out.push(majorityOrZero(border));
  }
  return out;
}

/** Bounding box of voxels where any channel differs from its background value; the whole volume when none does. */
export function foregroundBBox(v: ChannelVolume, background: number[]): BBox {
  const [D, H, W] = v.shape as [number, number, number];
  const lo = [D, H, W];
  const hi = [-1, -1, -1];
  const n = D * H * W;
  for (let c = 0; c < v.channels; c++) {
    const a = v.data;
    const b = background[c]!;
    for (let z = 0, i = c * n; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++, i++) {
          if (a[i] === b) continue;
          if (z < lo[0]!) lo[0] = z;
          if (z > hi[0]!) hi[0] = z;
          if (y < lo[1]!) lo[1] = y;
          if (y > hi[1]!) hi[1] = y;
          if (x < lo[2]!) lo[2] = x;
          if (x > hi[2]!) hi[2] = x;
        }
  }
  if (hi[0]! < 0) return v.shape.map((s) => [0, s] as [number, number]);
  return lo.map((l, d) => [l, hi[d]! + 1] as [number, number]);
}

/** 1 where any channel differs from its background value, per voxel of the spatial grid. */
export function foregroundMaskArray(v: ChannelVolume, background: number[]): Uint8Array {
  const n = numel(v.shape);
  const mask = new Uint8Array(n);
  for (let c = 0; c < v.channels; c++) {
    const x = channelOf(v, c);
    const b = background[c]!;
    for (let i = 0; i < n; i++) if (x[i] !== b) mask[i] = 1;
  }
  return mask;
}

/** Mirrors the spatial axes `axes` (0-based) of a batch [N, C, ...spatial] (rank 3 spatial) into a copy. */
export function flipSpatial(data: Float32Array, spatial: number[], axes: number[]): Float32Array {
  if (!axes.length) return data;
  const [D, H, W] = spatial as [number, number, number];
  const fz = axes.includes(0);
  const fy = axes.includes(1);
  const fx = axes.includes(2);
  const block = D * H * W;
  const out = new Float32Array(data.length);
  for (let b = 0; b < data.length; b += block)
    for (let z = 0; z < D; z++) {
      const zs = fz ? D - 1 - z : z;
      for (let y = 0; y < H; y++) {
        const ys = fy ? H - 1 - y : y;
        const src = b + (zs * H + ys) * W;
        const dst = b + (z * H + y) * W;
        if (fx) for (let x = 0; x < W; x++) out[dst + x] = data[src + W - 1 - x]!;
        else out.set(data.subarray(src, src + W), dst);
      }
    }
  return out;
}

export type AxisMode = 'linear' | 'nearest' | 'cubic';

const f32 = Math.fround;

/** Per output index: source indices and weights of one axis (libtorch's rules, see above). */
function axisTaps(
  inSize: number,
  outSize: number,
  mode: AxisMode,
): { idx: Int32Array; w: Float32Array; taps: number } {
  const scale = f32(inSize / outSize);
  if (mode === 'nearest') {
    const idx = new Int32Array(outSize);
    for (let j = 0; j < outSize; j++)
      idx[j] =
        outSize === inSize
          ? j
          : outSize === 2 * inSize
            ? j >> 1
            : Math.min(Math.floor(f32(j * scale)), inSize - 1);
    return { idx, w: new Float32Array(outSize).fill(1), taps: 1 };
  }
  if (mode === 'linear') {
    const idx = new Int32Array(outSize * 2);
    const w = new Float32Array(outSize * 2);
    for (let j = 0; j < outSize; j++) {
      let src = f32(f32(scale * f32(j + 0.5)) - 0.5);
      if (src < 0) src = 0;
      const i0 = Math.floor(src);
      const i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
      const l1 = Math.min(Math.max(f32(src - i0), 0), 1);
      idx[2 * j] = i0;
      idx[2 * j + 1] = i1;
      w[2 * j] = f32(1 - l1);
      w[2 * j + 1] = l1;
    }
    return { idx, w, taps: 2 };
  }
  // cubic: A = -0.75, four taps around floor(src), indices clamped to the volume
  const A = -0.75;
  const c1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const c2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  const idx = new Int32Array(outSize * 4);
  const w = new Float32Array(outSize * 4);
  for (let j = 0; j < outSize; j++) {
    const src = f32(f32(scale * f32(j + 0.5)) - 0.5);
    const i = Math.floor(src);
    const t = f32(src - i);
    const ws = [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
    for (let k = 0; k < 4; k++) {
      idx[4 * j + k] = Math.min(Math.max(i - 1 + k, 0), inSize - 1);
      w[4 * j + k] = ws[k]!;
    }
  }
  return { idx, w, taps: 4 };
}

/** Resamples one spatial axis (rank 3) of every channel to `size`. */
export function resampleAxis(v: ChannelVolume, axis: number, size: number, mode: AxisMode): ChannelVolume {
  const inSize = v.shape[axis]!;
  if (inSize === size) return v;
  const { idx, w, taps } = axisTaps(inSize, size, mode);
  const outShape = v.shape.map((s, d) => (d === axis ? size : s));
  // view the volume as [outer, inSize, inner]
  const outer = v.channels * numel(v.shape.slice(0, axis));
  const inner = numel(v.shape.slice(axis + 1));
  const out = new Float32Array(outer * size * inner);
  const src = v.data;
  for (let o = 0; o < outer; o++) {
    const sBase = o * inSize * inner;
    const dBase = o * size * inner;
    for (let j = 0; j < size; j++) {
      const d = dBase + j * inner;
      for (let t = 0; t < taps; t++) {
        const wt = w[j * taps + t]!;
        if (wt === 0 && taps > 1) continue;
        const s = sBase + idx[j * taps + t]! * inner;
        for (let k = 0; k < inner; k++) out[d + k] += wt * src[s + k]!;
      }
    }
  }
  return { data: out, channels: v.channels, shape: outShape };
}
