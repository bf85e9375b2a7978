// The scanner part of the simulation, applied to a rendered channel: partial-volume blur (the point
// spread of a voxel), a smooth multiplicative bias field (MRI coil sensitivity), noise, and storage as
// the type the modality uses (CT: int16 HU; MRI: float32).
import { LatticeNoise } from './noise.js';
import { NormalTable, type Rng } from '../common/random.js';

function gaussKernel(s: number): Float32Array {
  const r = Math.max(1, Math.ceil(2.5 * s));
  const kernel = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) sum += kernel[t + r] = Math.exp(-(t * t) / (2 * s * s));
  for (let t = 0; t < kernel.length; t++) kernel[t]! /= sum;
  return kernel;
}

/** Separable Gaussian blur in place; sigma per axis in voxels (0 skips the axis). Edges are clamped. */
export function blur(data: Float32Array, shape: readonly number[], sigma: readonly number[]): void {
  const [nx, ny, nz] = shape as [number, number, number];
  if (sigma[0]! > 0 && nx > 1) blurX(data, nx, gaussKernel(sigma[0]!));
  if (sigma[1]! > 0 && ny > 1) blurPlanes(data, nx, ny, nz, gaussKernel(sigma[1]!));
  if (sigma[2]! > 0 && nz > 1) blurPlanes(data, nx * ny, nz, 1, gaussKernel(sigma[2]!));
}

// Along the contiguous axis: each row is copied with r edge values repeated on both sides, so the
// inner loop has no branch.
function blurX(data: Float32Array, nx: number, kernel: Float32Array): void {
  const r = (kernel.length - 1) / 2;
  const line = new Float32Array(nx + 2 * r);
  for (let start = 0; start < data.length; start += nx) {
    line.set(data.subarray(start, start + nx), r);
    line.fill(data[start]!, 0, r);
    line.fill(data[start + nx - 1]!, nx + r);
    for (let i = 0; i < nx; i++) {
      let acc = 0;
      for (let t = 0; t < kernel.length; t++) acc += kernel[t]! * line[i + t]!;
      data[start + i] = acc;
    }
  }
}

// Along a strided axis, seen as `outer` blocks of n rows of `inner` contiguous values: output row i is a
// weighted sum of whole rows, so every access is contiguous (a voxel-by-voxel walk along z would miss
// the cache on every step). The originals of the last r rows, already overwritten, are kept in a ring.
function blurPlanes(data: Float32Array, inner: number, n: number, outer: number, kernel: Float32Array): void {
  const r = (kernel.length - 1) / 2;
  const ring = new Float32Array(r * inner);
  const acc = new Float32Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const row = (m: number): Float32Array => {
      const c = m < 0 ? 0 : m >= n ? n - 1 : m;
      return c < current
        ? ring.subarray((c % r) * inner, ((c % r) + 1) * inner)
        : data.subarray(base + c * inner, base + (c + 1) * inner);
    };
    let current = 0;
    for (let i = 0; i < n; i++) {
      current = i;
      acc.fill(0);
      for (let t = -r; t <= r; t++) {
        const src = row(i + t);
        const w = kernel[t + r]!;
        for (let x = 0; x < inner; x++) acc[x]! += w * src[x]!;
      }
      const dst = data.subarray(base + i * inner, base + (i + 1) * inner);
      ring.set(dst, (i % r) * inner);
      dst.set(acc);
    }
  }
}

/** Multiplies by exp(amp × smooth field): a coil sensitivity varying over a few cells of the field of view. */
export function applyBias(
  data: Float32Array,
  shape: readonly number[],
  rng: Rng,
  amp: number,
  cells = 3,
): void {
  const [nx, ny, nz] = shape as [number, number, number];
  const field = new LatticeNoise(rng, [cells, cells, cells]);
  const sample = field.rowSampler(Float64Array.from({ length: nx }, (_, i) => (i + 0.5) / nx));
  const row = new Float32Array(nx);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      sample((j + 0.5) / ny, (k + 0.5) / nz, row);
      const base = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) data[base + i]! *= Math.exp(amp * row[i]!);
    }
  }
}

/** CT: additive Gaussian noise (sigma HU), rounded and clamped to the int16 HU range scanners store. */
export function toHounsfield(data: Float32Array, rng: Rng, sigma: number): Int16Array {
  const table = new NormalTable(rng);
  const out = new Int16Array(data.length);
  const chunk = new Float32Array(Math.min(data.length, 1 << 16));
  for (let s = 0; s < data.length; s += chunk.length) {
    const n = Math.min(chunk.length, data.length - s);
    table.fill(chunk, rng, sigma);
    for (let i = 0; i < n; i++) {
      const v = Math.round(data[s + i]! + chunk[i]!);
      out[s + i] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
    }
  }
  return out;
}

/** MRI magnitude images: Rician noise, |signal + complex Gaussian|, so the background is not zero-mean. */
export function addRicianNoise(data: Float32Array, rng: Rng, sigma: number): void {
  const table = new NormalTable(rng);
  const re = new Float32Array(Math.min(data.length, 1 << 16));
  const im = new Float32Array(re.length);
  for (let s = 0; s < data.length; s += re.length) {
    const n = Math.min(re.length, data.length - s);
    table.fill(re, rng, sigma);
    table.fill(im, rng, sigma);
    for (let i = 0; i < n; i++) {
      const a = data[s + i]! + re[i]!;
      data[s + i] = Math.sqrt(a * a + im[i]! * im[i]!);
    }
  }
}

/** Partial-volume blur matched to the grid: about half a voxel along each axis. */
export const PSF_SIGMA: readonly number[] = [0.5, 0.5, 0.5];
