// Keeping the largest connected component, of all foreground and per label, on constructed label
// maps and against a flood-fill reference on random ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keepLargestForeground,
  keepLargestPerLabel,
  type Connectivity,
} from '../../src/postprocess/index.js';
import { fillBox, floodLabel, prng } from './helpers.js';

const SHAPE: [number, number, number] = [8, 10, 12];
const N = 8 * 10 * 12;

test('foreground: keeps the largest component of all labels together, with its labels', () => {
  const a = new Uint8Array(N);
  fillBox(a, SHAPE, [0, 4], [0, 4], [0, 4], 1); // 64 voxels of label 1 ...
  fillBox(a, SHAPE, [0, 4], [0, 4], [4, 6], 2); // ... touching 32 of label 2: one component of 96
  fillBox(a, SHAPE, [5, 8], [5, 10], [6, 12], 1); // 90 voxels, separate
  fillBox(a, SHAPE, [6, 7], [0, 1], [11, 12], 3); // 1 voxel, separate
  const out = keepLargestForeground(a, SHAPE);
  const want = new Uint8Array(N);
  fillBox(want, SHAPE, [0, 4], [0, 4], [0, 4], 1);
  fillBox(want, SHAPE, [0, 4], [0, 4], [4, 6], 2);
  assert.deepEqual(out, want);
  assert.notEqual(out, a, 'a copy by default');
  assert.equal(a.filter((v) => v !== 0).length, 96 + 90 + 1, 'input untouched');
  const same = keepLargestForeground(a, SHAPE, { inPlace: true });
  assert.equal(same, a);
  assert.deepEqual(a, want);
});

test('per label: each label keeps its own largest component; others and unselected labels stay', () => {
  const a = new Int16Array(N);
  fillBox(a, SHAPE, [0, 3], [0, 3], [0, 3], 1); // label 1: 27 (largest)
  fillBox(a, SHAPE, [5, 6], [5, 6], [5, 7], 1); // label 1: 2
  fillBox(a, SHAPE, [0, 3], [0, 3], [3, 4], 2); // label 2: 9, touching label 1's big part
  fillBox(a, SHAPE, [4, 8], [7, 10], [8, 12], 2); // label 2: 48 (largest)
  fillBox(a, SHAPE, [7, 8], [0, 2], [0, 2], 7); // label 7: 4
  fillBox(a, SHAPE, [7, 8], [0, 1], [6, 7], 7); // label 7: 1
  const out = keepLargestPerLabel(a, SHAPE);
  const want = new Int16Array(N);
  fillBox(want, SHAPE, [0, 3], [0, 3], [0, 3], 1);
  fillBox(want, SHAPE, [4, 8], [7, 10], [8, 12], 2);
  fillBox(want, SHAPE, [7, 8], [0, 2], [0, 2], 7);
  assert.deepEqual(out, want);
  assert.ok(out instanceof Int16Array);
  // only label 2 filtered
  const only2 = keepLargestPerLabel(a, SHAPE, { labels: [2] });
  const want2 = a.slice();
  fillBox(want2, SHAPE, [0, 3], [0, 3], [3, 4], 0);
  assert.deepEqual(only2, want2);
  // the foreground step treats 1 and 2 together: the 27 + 9 block (36) loses to label 2's 48
  const fg = keepLargestForeground(a, SHAPE);
  const wantFg = new Int16Array(N);
  fillBox(wantFg, SHAPE, [4, 8], [7, 10], [8, 12], 2);
  assert.deepEqual(fg, wantFg);
  assert.throws(() => keepLargestPerLabel(a, SHAPE, { labels: [0] }), RangeError);
  const int64 = new BigInt64Array(N) as unknown as Int32Array;
  assert.throws(() => keepLargestForeground(int64, SHAPE), /convert int64 label maps to int32/);
  assert.throws(() => keepLargestPerLabel(new Float32Array(N) as unknown as Int32Array, SHAPE), TypeError);
});

test('connectivity decides what is one component; ties keep the first in raster order', () => {
  const shape: [number, number, number] = [3, 3, 5];
  const a = new Int32Array(45);
  a[0] = 5; // (0,0,0)
  a[21] = 5; // (1,1,1): corner-touching (0,0,0)
  a[42] = 5; // (2,2,2): corner-touching (1,1,1)
  a[4] = 5; // (0,0,4): separate in all
  assert.deepEqual(
    [...keepLargestPerLabel(a, shape)].filter((v) => v).length,
    3,
    '26: the diagonal of 3 wins',
  );
  const six = keepLargestPerLabel(a, shape, { connectivity: 6 });
  assert.deepEqual(
    [...six].flatMap((v, i) => (v ? [i] : [])),
    [0],
    '6: four single voxels, the first is kept',
  );
  assert.deepEqual(
    [...keepLargestForeground(a, shape, { connectivity: 18 })].flatMap((v, i) => (v ? [i] : [])),
    [0],
  );
  // nothing to do: empty map, a single component
  assert.deepEqual(keepLargestForeground(new Uint8Array(45), shape), new Uint8Array(45));
  const one = new Uint8Array(45).fill(1);
  assert.deepEqual(keepLargestPerLabel(one, shape), one);
});

/** Reference: flood fill per label (or of the foreground), keep the first largest. */
function referenceKeep(
  a: Uint8Array,
  shape: [number, number, number],
  conn: Connectivity,
  perLabel: boolean,
): Uint8Array {
  const key = perLabel ? a : Uint8Array.from(a, (v) => (v ? 1 : 0));
  const { labels, count } = floodLabel(key, shape, conn);
  const sizes = new Float64Array(count + 1);
  const value = new Float64Array(count + 1);
  labels.forEach((id, i) => {
    sizes[id]++;
    value[id] = key[i]!;
  });
  const best = new Map<number, number>();
  for (let id = 1; id <= count; id++) {
    const v = perLabel ? value[id]! : 1;
    const b = best.get(v);
    if (b === undefined || sizes[id]! > sizes[b]!) best.set(v, id);
  }
  const kept = new Set(best.values());
  return Uint8Array.from(a, (v, i) => (kept.has(labels[i]!) ? v : 0));
}

test('matches a flood-fill reference on random label maps', () => {
  const rand = prng(11);
  const shape: [number, number, number] = [6, 7, 11];
  const n = 6 * 7 * 11;
  for (let rep = 0; rep < 6; rep++) {
    const density = [0.2, 0.45, 0.7][rep % 3]!;
    const a = Uint8Array.from({ length: n }, () => (rand() < density ? 1 + Math.floor(rand() * 3) : 0));
    for (const conn of [6, 18, 26] as const) {
      assert.deepEqual(
        keepLargestForeground(a, shape, { connectivity: conn }),
        referenceKeep(a, shape, conn, false),
      );
      assert.deepEqual(
        keepLargestPerLabel(a, shape, { connectivity: conn }),
        referenceKeep(a, shape, conn, true),
      );
    }
  }
});
