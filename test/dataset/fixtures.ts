// Shared test helpers for the dataset tests: temporary folders, small volumes, the real-data folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { writeImage } from '../../src/io/image.js';
import type { Volume, VoxelArray, VoxelType } from '../../src/io/volume.js';

/** A fresh temporary folder, removed when the test ends. */
export function tmpDir(t: TestContext, prefix = 'medseg-dataset-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface VolOptions {
  spacing?: [number, number, number];
  origin?: [number, number, number];
  datatype?: VoxelType;
  sclSlope?: number;
  sclInter?: number;
}

const ctors: Partial<Record<VoxelType, new (n: number) => VoxelArray>> = {
  uint8: Uint8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** A volume whose voxel values come from fill(i) (default: 0). */
export function vol(shape: number[], fill: (i: number) => number = () => 0, o: VolOptions = {}): Volume {
  const datatype = o.datatype ?? 'float32';
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new ctors[datatype]!(n);
  for (let i = 0; i < n; i++) (data as Float32Array)[i] = fill(i);
  const [sx, sy, sz] = o.spacing ?? [1, 1, 1];
  const [ox, oy, oz] = o.origin ?? [0, 0, 0];
  return {
    data,
    shape,
    spacing: [sx, sy, sz],
    affine: [
      [sx, 0, 0, ox],
      [0, sy, 0, oy],
      [0, 0, sz, oz],
      [0, 0, 0, 1],
    ],
    datatype,
    sclSlope: o.sclSlope ?? 1,
    sclInter: o.sclInter ?? 0,
  };
}

/** A label volume: a foreground box of `value` in a background of 0. */
export function boxLabel(shape: number[], value = 1, o: VolOptions = {}): Volume {
  const [nx, ny] = shape as [number, number, number];
  return vol(
    shape,
    (i) => {
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      return x >= 1 && x < 3 && y >= 1 && y < 3 ? value : 0;
    },
    { datatype: 'uint8', ...o },
  );
}

export async function write(file: string, v: Volume): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeImage(file, v);
}

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

/**
 * The shared real-data folder (MEDSEG_REAL_DATA, default ../shared/data from the repo root), or
 * undefined after marking the test skipped (reported as a skip, never as a pass) when it is absent.
 */
export function realData(t: TestContext, sub: string): string | undefined {
  const root = process.env.MEDSEG_REAL_DATA ?? path.resolve('../shared/data');
  const dir = path.join(root, sub);
  if (!fs.existsSync(dir)) {
    t.skip(`real data ${dir} not found (set MEDSEG_REAL_DATA)`);
    return undefined;
  }
  return dir;
}
