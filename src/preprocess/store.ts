// Preprocessed cases on disk: <id>.json (geometry record, shape, foreground locations), the image as
// raw float32 [C, z, y, x] and the labels as raw uint8/int16 class indices [z, y, x]. Training reads
// random patches by byte offsets (whole y-x planes of the patch's z range), never whole volumes.
import { openSync, readSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic as writeAtomic } from '../io/atomic.js';
import path from 'node:path';
import { Tensor, tidy, nonzero } from '../engine/index.js';
import type { PreprocessRecord } from './preprocessCase.js';

export interface StoredCase {
  id: string;
  shape: number[]; // z, y, x
  channels: number;
  labelType: 'uint8' | 'int16' | null;
  record: PreprocessRecord;
  /** Per class index ≥ 1: up to 500 voxel coordinates (z, y, x), for foreground oversampling. */
  classLocations: Record<string, number[][]>;
  /** Source files, to tell when the cache is stale. */
  source: string[];
  /** The dataset case this was cut from (the cascade's crop variant stores several per case). */
  parent?: string;
}

const MAX_LOCATIONS = 500;

/** Writes one case; `labels` are class indices (0..K-1). */
export async function storeCase(
  dir: string,
  id: string,
  image: Tensor,
  labels: Tensor | null,
  record: PreprocessRecord,
  source: string[],
  parent?: string,
): Promise<StoredCase> {
  await mkdir(dir, { recursive: true });
  const shape = image.shape.slice(1);
  const classLocations: Record<string, number[][]> = {};
  let labelBytes: Uint8Array | null = null;
  let labelType: StoredCase['labelType'] = null;
  if (labels) {
    tidy(() => {
      const max = labels.amax().item();
      labelType = max < 256 ? 'uint8' : 'int16';
      const arr = labels.to(labelType).contiguous().toArray() as Uint8Array | Int16Array;
      labelBytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let c = 1; c <= max; c++) {
        const idx = nonzero(labels.eq(c)); // [n, 3]
        const n = idx.shape[0]!;
        if (!n) continue;
        const all = idx.toArray() as BigInt64Array;
        const step = Math.max(1, Math.floor(n / MAX_LOCATIONS));
        const picks: number[][] = [];
        for (let i = 0; i < n && picks.length < MAX_LOCATIONS; i += step) {
          picks.push([Number(all[3 * i]), Number(all[3 * i + 1]), Number(all[3 * i + 2])]);
        }
        classLocations[String(c)] = picks;
      }
    });
  }
  const img = image.float().contiguous();
  const imgArr = img.toArray() as Float32Array;
  if (img !== image) img.dispose();
  await writeAtomic(
    path.join(dir, `${id}.image.f32`),
    new Uint8Array(imgArr.buffer, imgArr.byteOffset, imgArr.byteLength),
  );
  if (labelBytes) await writeAtomic(path.join(dir, `${id}.labels.bin`), labelBytes);
  const meta: StoredCase = {
    id,
    shape,
    channels: image.shape[0]!,
    labelType,
    record,
    classLocations,
    source,
    ...(parent ? { parent } : {}),
  };
  await writeAtomic(path.join(dir, `${id}.json`), JSON.stringify(meta));
  return meta;
}

export async function loadStoredCase(dir: string, id: string): Promise<StoredCase> {
  return JSON.parse(await readFile(path.join(dir, `${id}.json`), 'utf8')) as StoredCase;
}

/**
 * Reads the patch starting at `start` (z, y, x; may reach outside the image: zero padding) of size
 * `size` from a stored case: image [C, ...size] float32 and labels [...size] int64 (or null).
 */
export function readPatch(
  dir: string,
  meta: StoredCase,
  start: number[],
  size: number[],
): { image: Float32Array; labels: BigInt64Array | null } {
  const [D, H, W] = meta.shape as [number, number, number];
  const [pz, py, px] = size as [number, number, number];
  const C = meta.channels;
  const image = new Float32Array(C * pz * py * px);
  const labels = meta.labelType ? new BigInt64Array(pz * py * px) : null;
  const z0 = Math.max(0, start[0]!);
  const z1 = Math.min(D, start[0]! + pz);
  if (z1 <= z0) return { image, labels };
  const planes = z1 - z0;
  const plane = H * W;
  const slab = new Float32Array(planes * plane);
  const fd = openSync(path.join(dir, `${meta.id}.image.f32`), 'r');
  try {
    for (let c = 0; c < C; c++) {
      readSync(fd, new Uint8Array(slab.buffer), 0, slab.byteLength, (c * D + z0) * plane * 4);
      copyPatch(slab, image, c * pz * py * px, start, size, z0, planes, H, W);
    }
  } finally {
    closeSync(fd);
  }
  if (labels) {
    const bytesPer = meta.labelType === 'int16' ? 2 : 1;
    const raw = new Uint8Array(planes * plane * bytesPer);
    const lfd = openSync(path.join(dir, `${meta.id}.labels.bin`), 'r');
    try {
      readSync(lfd, raw, 0, raw.byteLength, z0 * plane * bytesPer);
    } finally {
      closeSync(lfd);
    }
    const lab = bytesPer === 2 ? new Int16Array(raw.buffer) : raw;
    const f = Float32Array.from(lab);
    const tmp = new Float32Array(pz * py * px);
    copyPatch(f, tmp, 0, start, size, z0, planes, H, W);
    for (let i = 0; i < tmp.length; i++) labels[i] = BigInt(tmp[i]!);
  }
  return { image, labels };
}

function copyPatch(
  slab: Float32Array,
  out: Float32Array,
  base: number,
  start: number[],
  size: number[],
  z0: number,
  planes: number,
  H: number,
  W: number,
): void {
  const [pz, py, px] = size as [number, number, number];
  const y0 = Math.max(0, start[1]!);
  const y1 = Math.min(H, start[1]! + py);
  const x0 = Math.max(0, start[2]!);
  const x1 = Math.min(W, start[2]! + px);
  for (let z = 0; z < planes; z++) {
    const oz = z0 + z - start[0]!;
    if (oz < 0 || oz >= pz) continue;
    for (let y = y0; y < y1; y++) {
      const src = (z * H + y) * W;
      const dst = base + (oz * py + (y - start[1]!)) * px - start[2]!;
      out.set(slab.subarray(src + x0, src + x1), dst + x0);
    }
  }
}

export function patchTensors(
  patches: { image: Float32Array; labels: BigInt64Array | null }[],
  channels: number,
  size: number[],
): { x: Tensor; y: Tensor } {
  const n = patches.length;
  const vox = size.reduce((a, b) => a * b, 1);
  const img = new Float32Array(n * channels * vox);
  const lab = new BigInt64Array(n * vox);
  patches.forEach((p, i) => {
    img.set(p.image, i * channels * vox);
    if (p.labels) lab.set(p.labels, i * vox);
  });
  return { x: Tensor.fromArray(img, [n, channels, ...size]), y: Tensor.fromArray(lab, [n, ...size]) };
}
