// Connected-component labelling checked against hand-made cases, a plain flood fill, and
// scipy.ndimage.label (through /usr/bin/python3; skipped with a notice when scipy is absent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/engine/index.js';
import {
  boundingBox,
  countComponents,
  labelComponents,
  type Components,
  type Connectivity,
} from '../../src/postprocess/index.js';
import {
  assertSamePartition,
  fillBox,
  floodLabel,
  prng,
  randomMask,
  scipyAvailable,
  scipyLabel,
  type Mask,
} from './helpers.js';

const CONNS: Connectivity[] = [6, 18, 26];

/** Sizes and bounding boxes recomputed voxel by voxel from the id volume. */
function assertStatsMatch(c: Components): void {
  const [D, H, W] = c.shape;
  const sizes = new Float64Array(c.count + 1);
  const lo = Array.from({ length: c.count + 1 }, () => [Infinity, Infinity, Infinity]);
  const hi = Array.from({ length: c.count + 1 }, () => [-1, -1, -1]);
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const id = c.labels[(z * H + y) * W + x]!;
        if (id === 0) continue;
        sizes[id]++;
        const p = [z, y, x];
        for (let k = 0; k < 3; k++) {
          lo[id]![k] = Math.min(lo[id]![k]!, p[k]!);
          hi[id]![k] = Math.max(hi[id]![k]!, p[k]! + 1);
        }
      }
  assert.deepEqual([...c.sizes], [...sizes]);
  for (let id = 1; id <= c.count; id++) {
    assert.ok(sizes[id]! > 0, `id ${id} is used`);
    assert.deepEqual(boundingBox(c, id), { start: lo[id], stop: hi[id] });
  }
}

test('corner-touching voxels are one component in 26 only; edge-touching in 18 and 26', () => {
  const shape = [2, 2, 2];
  const corner = new Uint8Array(8);
  corner[0] = 1; // (0,0,0)
  corner[7] = 1; // (1,1,1)
  assert.deepEqual(
    CONNS.map((connectivity) => labelComponents(corner, shape, { connectivity }).count),
    [2, 2, 1],
  );
  const edge = new Uint8Array(8);
  edge[0] = 1; // (0,0,0)
  edge[3] = 1; // (0,1,1)
  assert.deepEqual(
    CONNS.map((connectivity) => labelComponents(edge, shape, { connectivity }).count),
    [2, 1, 1],
  );
  const face = new Uint8Array(8);
  face[0] = 1;
  face[4] = 1; // (1,0,0)
  assert.deepEqual(
    CONNS.map((connectivity) => labelComponents(face, shape, { connectivity }).count),
    [1, 1, 1],
  );
  // default connectivity is 26
  assert.equal(labelComponents(corner, shape).count, 1);
  const c6 = labelComponents(corner, shape, { connectivity: 6 });
  assert.deepEqual([...c6.labels], [1, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual([...c6.sizes], [0, 1, 1]);
});

test('a diagonal staircase through a volume: one component in 26, one per voxel in 6', () => {
  const shape: [number, number, number] = [5, 6, 7];
  const m = new Uint8Array(5 * 6 * 7);
  for (let k = 0; k < 5; k++) m[(k * 6 + k) * 7 + k] = 1;
  const c26 = labelComponents(m, shape);
  assert.equal(c26.count, 1);
  assert.deepEqual(boundingBox(c26, 1), { start: [0, 0, 0], stop: [5, 5, 5] });
  assert.equal(labelComponents(m, shape, { connectivity: 18 }).count, 5);
  assert.equal(labelComponents(m, shape, { connectivity: 6 }).count, 5);
  // an in-plane diagonal (dz = 0) is an edge: connected in 18
  const p = new Uint8Array(1 * 4 * 4);
  for (let k = 0; k < 4; k++) p[k * 4 + k] = 1;
  assert.equal(labelComponents(p, [4, 4], { connectivity: 18 }).count, 1);
  assert.equal(labelComponents(p, [4, 4], { connectivity: 6 }).count, 4);
});

test('runs, ids in raster order, sizes and bounding boxes on constructed blobs', () => {
  const shape: [number, number, number] = [6, 9, 21];
  const m = new Uint8Array(6 * 9 * 21);
  fillBox(m, shape, [1, 3], [2, 5], [3, 19], 1); // long runs (word path)
  fillBox(m, shape, [0, 1], [7, 9], [0, 2], 1); // first in raster order? no: z=0 comes first
  fillBox(m, shape, [4, 6], [0, 9], [20, 21], 1); // last column
  const c = labelComponents(m, shape);
  assert.equal(c.count, 3);
  assert.deepEqual(boundingBox(c, 1), { start: [0, 7, 0], stop: [1, 9, 2] });
  assert.deepEqual(boundingBox(c, 2), { start: [1, 2, 3], stop: [3, 5, 19] });
  assert.deepEqual(boundingBox(c, 3), { start: [4, 0, 20], stop: [6, 9, 21] });
  assert.deepEqual([...c.sizes], [0, 4, 2 * 3 * 16, 2 * 9]);
  assertStatsMatch(c);
  assert.equal(countComponents(m, shape), 3);
  assert.throws(() => boundingBox(c, 4), RangeError);
});

test('matches a flood fill on random masks: all connectivities, odd widths, unaligned and non-byte inputs', () => {
  const rand = prng(7);
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 1, 13],
    [4, 7, 9],
    [6, 5, 16],
    [5, 9, 33],
  ];
  for (const shape of shapes) {
    for (const density of [0.05, 0.3, 0.6, 0.97]) {
      const m = randomMask(shape, density, rand);
      // the same bytes at an odd byte offset (byte path) and as int16 (generic path)
      const shifted = new Uint8Array(m.length + 1).subarray(1);
      shifted.set(m);
      const wide = Int16Array.from(m, (v) => v * 3);
      for (const connectivity of CONNS) {
        const ref = floodLabel(m, shape, connectivity);
        const what = `[${shape}] p=${density} ${connectivity}`;
        for (const input of [m, shifted, wide]) {
          const c = labelComponents(input, shape, { connectivity });
          assert.equal(c.count, ref.count, what);
          // both number components in raster order of their first voxel, so ids agree exactly
          assert.deepEqual(c.labels, ref.labels, what);
        }
        assertStatsMatch(labelComponents(m, shape, { connectivity }));
      }
    }
  }
});

test('matches scipy.ndimage.label on random 3D masks (6, 18 and 26 connectivity)', (t) => {
  if (!scipyAvailable()) {
    t.skip('scipy is not importable by /usr/bin/python3: scipy comparison skipped');
    return;
  }
  const rand = prng(2024);
  const masks: Mask[] = [];
  const shapes: [number, number, number][] = [
    [8, 8, 8],
    [5, 12, 17],
    [10, 6, 31],
    [2, 20, 20],
  ];
  for (const shape of shapes) {
    for (const density of [0.1, 0.25, 0.4, 0.7])
      masks.push({ data: randomMask(shape, density, rand), shape });
  }
  const ref = scipyLabel(masks, CONNS);
  masks.forEach((m, i) => {
    CONNS.forEach((connectivity, k) => {
      const what = `mask ${i} [${m.shape}] ${connectivity}`;
      const c = labelComponents(m.data, m.shape, { connectivity });
      const r = ref[i]![k]!;
      assert.equal(c.count, Math.max(0, ...r), `${what}: component count`);
      assertSamePartition(c.labels, r, what);
    });
  });
});

test('accepts bool and uint8 tensors, and 1D/2D shapes', () => {
  const data = new Uint8Array([1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0]);
  const fromArray = labelComponents(data, [3, 4], { connectivity: 6 });
  for (const dtype of ['bool', 'uint8', 'float32'] as const) {
    const t = Tensor.fromArray(dtype === 'float32' ? Float32Array.from(data) : data, [1, 3, 4], dtype);
    try {
      const c = labelComponents(t, { connectivity: 6 });
      assert.equal(c.count, fromArray.count, dtype);
      assert.deepEqual(c.labels, fromArray.labels, dtype);
      assert.deepEqual(c.shape, [1, 3, 4]);
    } finally {
      t.dispose();
    }
  }
  assert.equal(labelComponents(new Uint8Array([1, 0, 1, 1, 0]), [5]).count, 2);
  assert.equal(labelComponents(new Uint8Array(0), [0, 4, 4]).count, 0);
});

test('rejects bad shapes and connectivities', () => {
  assert.throws(() => labelComponents(new Uint8Array(8), [2, 2, 3]), RangeError);
  assert.throws(() => labelComponents(new Uint8Array(8), [1, 2, 2, 2]), RangeError);
  assert.throws(
    () => labelComponents(new Uint8Array(8), [2, 2, 2], { connectivity: 8 as Connectivity }),
    RangeError,
  );
});
