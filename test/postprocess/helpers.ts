// Test helpers: independent references for connected components (a plain flood fill here, and
// scipy.ndimage.label through /usr/bin/python3), partition comparison and small volume builders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PYTHON = process.env.MEDSEG_REF_PYTHON ?? '/usr/bin/python3';

let scipyOk: boolean | undefined;
/** True when the reference Python can import scipy.ndimage. */
export function scipyAvailable(): boolean {
  if (scipyOk === undefined) {
    try {
      execFileSync(PYTHON, ['-c', 'import scipy.ndimage, numpy'], { stdio: 'ignore' });
      scipyOk = true;
    } catch {
      scipyOk = false;
    }
  }
  return scipyOk;
}

const SCIPY_LABEL = `
import json, sys, numpy as np
from scipy import ndimage
d = sys.argv[1]
spec = json.load(open(d + '/spec.json'))
for i, m in enumerate(spec['masks']):
    a = np.fromfile(d + '/m%d.bin' % i, dtype=np.uint8).reshape(m['shape']) != 0
    for c in spec['conns']:
        rank = {6: 1, 18: 2, 26: 3}[c]
        lab, _ = ndimage.label(a, structure=ndimage.generate_binary_structure(3, rank))
        lab.astype(np.int32).tofile(d + '/l%d_%d.bin' % (i, c))
`;

export interface Mask {
  data: Uint8Array;
  shape: [number, number, number];
}

/** scipy.ndimage.label of each mask for each connectivity: result[i][c] for mask i, conns[c]. */
export function scipyLabel(masks: readonly Mask[], conns: readonly number[]): Int32Array[][] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-cc-'));
  try {
    masks.forEach((m, i) => writeFileSync(path.join(dir, `m${i}.bin`), m.data));
    writeFileSync(
      path.join(dir, 'spec.json'),
      JSON.stringify({ masks: masks.map((m) => ({ shape: m.shape })), conns }),
    );
    execFileSync(PYTHON, ['-c', SCIPY_LABEL, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    return masks.map((_, i) =>
      conns.map((c) => {
        const b = readFileSync(path.join(dir, `l${i}_${c}.bin`));
        return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Offsets [dz, dy, dx] of the neighbours of a voxel for a connectivity (not the voxel itself). */
export function neighbourOffsets(conn: 6 | 18 | 26): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const k = Math.abs(dz) + Math.abs(dy) + Math.abs(dx);
        if (k === 0) continue;
        if (conn === 6 && k > 1) continue;
        if (conn === 18 && k > 2) continue;
        out.push([dz, dy, dx]);
      }
  return out;
}

/**
 * Flood-fill labelling (breadth first, explicit queue): voxels with the same `key` value that are
 * neighbours are connected; key 0 is background. Ids in raster order of first voxel.
 */
export function floodLabel(
  key: ArrayLike<number>,
  shape: readonly [number, number, number],
  conn: 6 | 18 | 26,
): { labels: Int32Array; count: number } {
  const [D, H, W] = shape;
  const labels = new Int32Array(D * H * W);
  const offs = neighbourOffsets(conn);
  const queue = new Int32Array(D * H * W);
  let count = 0;
  for (let seed = 0; seed < labels.length; seed++) {
    if (key[seed] === 0 || labels[seed] !== 0) continue;
    const v = key[seed];
    labels[seed] = ++count;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const p = queue[head++]!;
      const z = Math.floor(p / (H * W));
      const y = Math.floor(p / W) % H;
      const x = p % W;
      for (const [dz, dy, dx] of offs) {
        const zz = z + dz;
        const yy = y + dy;
        const xx = x + dx;
        if (zz < 0 || yy < 0 || xx < 0 || zz >= D || yy >= H || xx >= W) continue;
        const q = (zz * H + yy) * W + xx;
        if (labels[q] === 0 && key[q] === v) {
          labels[q] = count;
          queue[tail++] = q;
        }
      }
    }
  }
  return { labels, count };
}

/** Throws unless a and b have the same background and a one-to-one map between their ids. */
export function assertSamePartition(a: Int32Array, b: Int32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths ${a.length} vs ${b.length}`);
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((x === 0) !== (y === 0)) throw new Error(`${what}: background differs at voxel ${i} (${x} vs ${y})`);
    if (x === 0) continue;
    const m = ab.get(x);
    if (m === undefined) ab.set(x, y);
    else if (m !== y) throw new Error(`${what}: our id ${x} meets reference ids ${m} and ${y}`);
    const n = ba.get(y);
    if (n === undefined) ba.set(y, x);
    else if (n !== x) throw new Error(`${what}: reference id ${y} meets our ids ${n} and ${x}`);
  }
}

/** A small deterministic PRNG (mulberry32) in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random mask: each voxel foreground with probability `density`. */
export function randomMask(shape: [number, number, number], density: number, rand: () => number): Uint8Array {
  const m = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < m.length; i++) m[i] = rand() < density ? 1 : 0;
  return m;
}

/** Fills the box [z0, z1) x [y0, y1) x [x0, x1) of a [D, H, W] array with v. */
export function fillBox(
  a: { [i: number]: number },
  shape: readonly number[],
  [z0, z1]: [number, number],
  [y0, y1]: [number, number],
  [x0, x1]: [number, number],
  v: number,
): void {
  const [, H, W] = shape as [number, number, number];
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[(z * H + y) * W + x] = v;
}
