// Voxel scans and geometry comparison used by the check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { affineMismatch, anisotropy, medianSpacing } from '../../src/dataset/geometry.js';
import { countNonFinite, scanLabel } from '../../src/dataset/voxels.js';

test('label scan: counts per value for integer and float storage', () => {
  const u8 = scanLabel({ data: Uint8Array.from([0, 0, 1, 2, 2, 2]), sclSlope: 1, sclInter: 0 });
  assert.deepEqual([...u8.counts].sort(), [
    [0, 2],
    [1, 1],
    [2, 3],
  ]);
  const f32 = scanLabel({ data: Float32Array.from([0, 4, 4, 0, 0.5, NaN]), sclSlope: 1, sclInter: 0 });
  assert.deepEqual([...f32.counts].sort(), [
    [0, 2],
    [4, 2],
  ]);
  assert.equal(f32.nonInteger, 2);
  assert.equal(f32.nonIntegerExample, 0.5);
});

test('label scan applies the header scaling', () => {
  const s = scanLabel({ data: Int16Array.from([0, 1, 2]), sclSlope: 2, sclInter: 1 });
  assert.deepEqual([...s.counts.keys()].sort(), [1, 3, 5]);
  const half = scanLabel({ data: Int16Array.from([0, 1]), sclSlope: 0.5, sclInter: 0 });
  assert.equal(half.nonInteger, 1);
});

test('non-finite count over a channel range', () => {
  const data = Float32Array.from([0, NaN, Infinity, 1, -Infinity, 2]);
  assert.equal(countNonFinite({ data, sclSlope: 1, sclInter: 0 }), 3);
  assert.equal(countNonFinite({ data, sclSlope: 1, sclInter: 0 }, 3, 6), 1);
  assert.equal(countNonFinite({ data: Int16Array.from([1, 2]), sclSlope: 1, sclInter: 0 }), 0);
  assert.equal(countNonFinite({ data: Int16Array.from([1, 2]), sclSlope: NaN, sclInter: 0 }), 2);
});

test('affine comparison: float rounding passes, real shifts and flips do not', () => {
  const a = [
    [0.8, 0, 0, -200],
    [0, 0.8, 0, -180],
    [0, 0, 5, 30],
    [0, 0, 0, 1],
  ];
  const close = a.map((r) => r.map((v) => v * (1 + 1e-7)));
  assert.equal(affineMismatch(a, close), undefined);
  const shifted = a.map((r, i) => (i === 2 ? [0, 0, 5, 32.5] : r));
  assert.match(affineMismatch(a, shifted)!, /origins differ by 2\.5 mm/);
  const flipped = a.map((r, i) => (i === 0 ? [-0.8, 0, 0, -200] : r));
  assert.match(affineMismatch(a, flipped)!, /axes differ/);
  const broken = a.map((r, i) => (i === 0 ? [NaN, 0, 0, -200] : r));
  assert.ok(affineMismatch(a, broken));
});

test('spacing statistics', () => {
  assert.equal(anisotropy([0.6, 0.6, 3.6]), 6);
  assert.deepEqual(
    medianSpacing([
      [1, 1, 5],
      [0.8, 0.8, 2.5],
      [0.7, 0.7, 3],
    ]),
    [0.8, 0.8, 3],
  );
});
