// Overlay images for the report: one axial slice of the image in grey with the reference outline
// in green and the prediction outline in red (yellow where they agree).
import { scaledValues } from '../io/values.js';
import type { Volume } from '../io/volume.js';
import { encodePng } from './png.js';

/** The axial slice index with the most reference (or prediction) foreground. */
export function busiestSlice(label: Volume): number {
  const [nx, ny, nz] = label.shape as [number, number, number];
  let best = Math.floor(nz / 2);
  let max = -1;
  for (let z = 0; z < nz; z++) {
    let n = 0;
    for (let i = z * nx * ny; i < (z + 1) * nx * ny; i++) if (Number(label.data[i]) > 0) n++;
    if (n > max) {
      max = n;
      best = z;
    }
  }
  return best;
}

function outline(label: Volume, z: number): Uint8Array {
  const [nx, ny] = label.shape as [number, number];
  const out = new Uint8Array(nx * ny);
  const at = (x: number, y: number) => Number(label.data[z * nx * ny + y * nx + x]);
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const v = at(x, y);
      if (v <= 0) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === nx - 1 ||
        y === ny - 1 ||
        at(x - 1, y) !== v ||
        at(x + 1, y) !== v ||
        at(x, y - 1) !== v ||
        at(x, y + 1) !== v;
      if (edge) out[y * nx + x] = 1;
    }
  return out;
}

/** PNG of slice z: image windowed to its 1st–99th percentile, outlines drawn, scaled up to ≥ 256 px. */
export function overlayPng(image: Volume, ref: Volume, pred: Volume, z: number): Buffer {
  const [nx, ny] = image.shape as [number, number];
  const vals = scaledValues(image, 'float32');
  const slice = vals.subarray(z * nx * ny, (z + 1) * nx * ny);
  const sorted = Float32Array.from(slice).sort();
  const lo = sorted[Math.floor(sorted.length * 0.01)]!;
  const hi = sorted[Math.floor(sorted.length * 0.99)]!;
  const r = outline(ref, z);
  const p = outline(pred, z);
  const scale = Math.max(1, Math.ceil(256 / Math.max(nx, ny)));
  const W = nx * scale;
  const H = ny * scale;
  const rgb = new Uint8Array(W * H * 3);
  for (let Y = 0; Y < H; Y++)
    for (let X = 0; X < W; X++) {
      // radiological convention aside, rows go top (high y) to bottom
      const x = Math.floor(X / scale);
      const y = ny - 1 - Math.floor(Y / scale);
      const i = y * nx + x;
      const g = Math.max(0, Math.min(255, Math.round(((slice[i]! - lo) / Math.max(hi - lo, 1e-6)) * 255)));
      let c = [g, g, g];
      if (r[i] && p[i]) c = [255, 220, 0];
      else if (r[i]) c = [0, 220, 0];
      else if (p[i]) c = [255, 40, 40];
      rgb.set(c, (Y * W + X) * 3);
    }
  return encodePng(W, H, rgb);
}
