// Building blocks of the scenes: smooth noise, shapes, painting, blur and erosion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Grid } from '../../src/synth/grid.js';
import { affineOf, indexRange, worldOf } from '../../src/synth/grid.js';
import { applyBias, blur, toHounsfield } from '../../src/synth/imaging.js';
import { count, erode } from '../../src/synth/morph.js';
import { LatticeNoise } from '../../src/synth/noise.js';
import { Rng } from '../../src/common/random.js';
import { capsule, cylinderZ, ellipsoid, rotation } from '../../src/synth/regions.js';
import { Scene } from '../../src/synth/scene.js';
import { growTree } from '../../src/synth/tubes.js';

const grid: Grid = { shape: [20, 16, 12], spacing: [1, 1.5, 2], flip: [1, 1, 1] };

test('lattice noise is continuous, bounded, and its row sampler agrees with point evaluation', () => {
  const n = new LatticeNoise(new Rng(1), [4, 3, 5]);
  let maxStep = 0;
  for (let i = 0; i < 1000; i++) {
    const u = i / 1000;
    const v = n.at(u, 0.3, 0.7);
    assert.ok(v >= -1 && v <= 1);
    maxStep = Math.max(maxStep, Math.abs(n.at(u + 0.001, 0.3, 0.7) - v));
  }
  assert.ok(maxStep < 0.05, `jump ${maxStep}`);
  const us = Float64Array.from({ length: 17 }, (_, i) => i / 16);
  const row = new Float32Array(17);
  n.rowSampler(us)(0.42, 0.9, row);
  us.forEach((u, i) => assert.ok(Math.abs(row[i]! - n.at(u, 0.42, 0.9)) < 1e-5));
});

test('shapes: level -1 at the core, 0 on the surface, boxes that contain them', () => {
  const e = ellipsoid([1, 2, 3], [4, 5, 6], rotation([0, 0, 1], 0.7));
  assert.ok(Math.abs(e.level(1, 2, 3) + 1) < 1e-12);
  const c = capsule([0, 0, 0], [10, 0, 0], 2);
  assert.ok(Math.abs(c.level(5, 2, 0)) < 1e-12);
  assert.ok(c.level(5, 0, 0) < 0 && c.level(13, 0, 0) > 0);
  const cyl = cylinderZ([0, 0], [3, 2], -5, 5);
  assert.ok(cyl.level(0, 1.9, 4) < 0 && cyl.level(0, 2.1, 0) > 0);
  // Sample points inside the rotated, wobbled ellipsoid: all within its box.
  const w = ellipsoid(
    [0, 0, 0],
    [6, 3, 2],
    rotation([1, 1, 0].map((x) => x / Math.SQRT2) as [number, number, number], 1),
    {
      rng: new Rng(2),
      cells: 3,
      amp: 0.2,
    },
  );
  const rng = new Rng(9);
  for (let i = 0; i < 5000; i++) {
    const p = [rng.uniform(-12, 12), rng.uniform(-12, 12), rng.uniform(-12, 12)] as const;
    if (w.level(...p) < 0) for (let a = 0; a < 3; a++) assert.ok(p[a]! >= w.min[a]! && p[a]! <= w.max[a]!);
  }
});

test('grid geometry: centred, flips honoured, index ranges clamp', () => {
  const g: Grid = { shape: [5, 4, 3], spacing: [2, 1, 3], flip: [-1, -1, 1] };
  assert.equal(worldOf(g, 0, 2), -0);
  assert.equal(worldOf(g, 0, 0), 4);
  const a = affineOf(g);
  assert.deepEqual(a[0], [-2, 0, 0, 4]);
  assert.deepEqual(a[2], [0, 0, 3, -3]);
  assert.deepEqual(indexRange(g, 0, -1, 100), [0, 2]);
  assert.deepEqual(indexRange(g, 2, -100, 100), [0, 2]);
});

test('painting: only inside the shape, only over allowed tissues, nested layers in one pass', () => {
  const s = new Scene(grid, { label: 0, values: [0] });
  const a = s.add({ label: 1, values: [10] });
  const b = s.add({ label: 2, values: [20] });
  const nA = s.paint(ellipsoid([0, 0, 0], [5, 5, 5]), a);
  assert.ok(nA > 0);
  assert.equal(count(s.mask([a])), nA);
  // Painting b over a only: the part of the shape outside a stays background.
  s.paint(ellipsoid([5, 0, 0], [4, 4, 4]), b, { over: [a] });
  for (let i = 0; i < s.tissue.length; i++) {
    const [x, y, z] = s.world(i);
    if (s.tissue[i] === b) assert.ok(Math.hypot(x, y, z) < 5 + 1e-9);
  }
  const layers = new Scene(grid, { label: 0, values: [0] });
  const [outer, inner] = [layers.add({ label: 1, values: [1] }), layers.add({ label: 2, values: [2] })];
  layers.paintLayers(ellipsoid([0, 0, 0], [8, 8, 8]), [
    { below: 0, tissue: outer },
    { below: -0.5, tissue: inner },
  ]);
  for (let i = 0; i < layers.tissue.length; i++) {
    const r = Math.hypot(...layers.world(i)) / 8;
    const want = r < 0.5 ? inner : r < 1 ? outer : 0;
    if (Math.abs(r - 0.5) > 1e-9 && Math.abs(r - 1) > 1e-9) assert.equal(layers.tissue[i], want);
  }
  const lab = s.labelMap();
  const img = s.render(0);
  for (let i = 0; i < lab.length; i++) assert.equal(img[i], lab[i]! * 10);
});

test('blur keeps constants and mass, smooths a step', () => {
  const shape = [9, 7, 5];
  const n = 9 * 7 * 5;
  const flat = new Float32Array(n).fill(3);
  blur(flat, shape, [0.8, 1.2, 0.6]);
  assert.ok(flat.every((v) => Math.abs(v - 3) < 1e-5));
  const step = Float32Array.from({ length: n }, (_, i) => (i % 9 < 4 ? 0 : 100));
  blur(step, shape, [0.7, 0, 0]);
  assert.ok(step[3]! > 0 && step[3]! < 50 && step[4]! > 50 && step[4]! < 100, `${step[3]} ${step[4]}`);
});

test('bias field is smooth and positive; HU conversion clamps to the int16 CT range', () => {
  const shape = [16, 16, 4];
  const img = new Float32Array(16 * 16 * 4).fill(100);
  applyBias(img, shape, new Rng(4), 0.3);
  assert.ok(img.every((v) => v > 100 * Math.exp(-0.31) && v < 100 * Math.exp(0.31)));
  assert.ok(Math.abs(img[1]! - img[0]!) < 5);
  const hu = toHounsfield(Float32Array.from([-3000, 0, 5000, 40.4]), new Rng(1), 0);
  assert.deepEqual(Array.from(hu), [-1024, 0, 3071, 40]);
});

test('erosion removes the boundary layer only', () => {
  const shape = [6, 6, 6];
  const cube = new Uint8Array(216).fill(1);
  const e = erode(cube, shape);
  assert.equal(count(e), 4 * 4 * 4);
  assert.equal(count(erode(erode(erode(e, shape), shape), shape)), 0);
});

test('vessel trees branch, taper and stay inside their organ', () => {
  const organ = ellipsoid([0, 0, 0], [40, 30, 30]);
  const tree = growTree(new Rng(11), {
    start: [-30, 0, 0],
    direction: [1, 0, 0],
    radius: 4,
    minRadius: 0.8,
    step: 5,
    taper: 0.95,
    branchChance: 0.3,
    wander: 0.3,
    maxSegments: 200,
    inside: (p) => organ.level(p[0], p[1], p[2]) < 0,
  });
  assert.ok(tree.length > 20, `${tree.length} segments`);
  for (const seg of tree) {
    const mid = seg.min.map((m, a) => (m + seg.max[a]!) / 2) as [number, number, number];
    assert.ok(organ.level(...mid) < 0.3);
  }
});
