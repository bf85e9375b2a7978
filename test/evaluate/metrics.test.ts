// Metrics of label maps: closed forms, the exact EDT against brute force, and every metric against
// numpy + scipy.ndimage on random anisotropic label pairs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EvaluationInputError,
  distancesAt,
  evaluateCase,
  maskMetrics,
  METRIC_KEYS,
  squaredEdt,
  surfaceOf,
  type Metrics,
} from '../../src/evaluate/index.js';
import { scipyAvailable, scipyMetrics, type RefCase } from './scipyRef.js';
import { percentile } from '../../src/common/stats.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vol = (data: ArrayLike<number>, shape: number[], spacing = [1, 1, 1]) => ({
  data: Int32Array.from(data),
  shape,
  spacing,
});

function voxels(shape: number[], list: [number, number, number, number][]): Int32Array {
  const a = new Int32Array(shape[0]! * shape[1]! * shape[2]!);
  for (const [i, j, k, v] of list) a[i + shape[0]! * (j + shape[1]! * k)] = v;
  return a;
}

test('percentile is numpy linear interpolation', () => {
  // Bit for bit what numpy.percentile gives (h = 3·0.95 = 2.8499999999999996).
  assert.equal(percentile([1, 2, 3, 4], 95), 3.8499999999999996);
  assert.equal(percentile([5], 95), 5);
  assert.equal(percentile([0, 10], 50), 5);
  assert.equal(percentile([0, 10], 100), 10);
  assert.equal(percentile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 9.5);
  assert.ok(Number.isNaN(percentile([], 95)));
});

test('squaredEdt and distancesAt equal brute force (anisotropic, random features)', () => {
  const r = rng(7);
  for (let trial = 0; trial < 12; trial++) {
    const dims = [1 + Math.floor(r() * 11), 1 + Math.floor(r() * 11), 1 + Math.floor(r() * 11)] as const;
    const sp = [0.3 + r() * 3, 0.3 + r() * 3, 0.3 + r() * 3] as const;
    const n = dims[0] * dims[1] * dims[2];
    const f = Uint8Array.from({ length: n }, () => (r() < 0.04 ? 1 : 0));
    const q = Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
    const d2 = squaredEdt(f, dims, sp);
    const at = distancesAt(f, q, dims, sp);
    const feats: number[][] = [];
    const xyz = (i: number) => [
      i % dims[0],
      Math.floor(i / dims[0]) % dims[1],
      Math.floor(i / (dims[0] * dims[1])),
    ];
    for (let i = 0; i < n; i++) if (f[i]) feats.push(xyz(i));
    let m = 0;
    for (let i = 0; i < n; i++) {
      const [x, y, z] = xyz(i) as [number, number, number];
      let best = Infinity;
      for (const [a, b, c] of feats) {
        best = Math.min(best, ((x - a!) * sp[0]) ** 2 + ((y - b!) * sp[1]) ** 2 + ((z - c!) * sp[2]) ** 2);
      }
      if (best === Infinity) assert.equal(d2[i], Infinity);
      else assert.ok(Math.abs(d2[i]! - best) <= 1e-9 * Math.max(1, best), `trial ${trial} voxel ${i}`);
      if (q[i]) assert.ok(at[m++] === Math.sqrt(d2[i]!));
    }
    assert.equal(m, at.length);
  }
});

test('surfaceOf: 6-neighbourhood, the image border counts as outside', () => {
  // A full 3×3×3 block: all but the centre is surface.
  const s = surfaceOf(new Uint8Array(27).fill(1), [3, 3, 3]);
  assert.equal(
    s.reduce((a, b) => a + b, 0),
    26,
  );
  assert.equal(s[13], 0);
  // A 5×5×5 image with a 3×3×3 cube in the middle: again 26 (diagonal neighbours do not count).
  const m = new Uint8Array(125);
  for (let k = 1; k < 4; k++)
    for (let j = 1; j < 4; j++) for (let i = 1; i < 4; i++) m[i + 5 * (j + 5 * k)] = 1;
  assert.equal(
    surfaceOf(m, [5, 5, 5]).reduce((a, b) => a + b, 0),
    26,
  );
});

test('identical masks: dice 1, hd95 0, nsd 1', () => {
  const shape = [6, 5, 4];
  const r = rng(3);
  const a = Int32Array.from({ length: 120 }, () => (r() < 0.4 ? 1 : r() < 0.5 ? 2 : 0));
  const res = evaluateCase(vol(a, shape, [0.7, 1.1, 2.5]), vol(a, shape, [0.7, 1.1, 2.5]));
  assert.deepEqual(Object.keys(res), ['1', '2']);
  for (const m of Object.values(res)) {
    assert.equal(m.dice, 1);
    assert.equal(m.iou, 1);
    assert.equal(m.hd95, 0);
    assert.equal(m.hd, 0);
    assert.equal(m.assd, 0);
    assert.equal(m.nsd, 1);
    assert.equal(m.volumeDiffMm3, 0);
    assert.equal(m.volumeDiffRel, 0);
  }
});

test('two single voxels at a known distance', () => {
  const shape = [6, 5, 7];
  const spacing = [0.5, 2, 3];
  const pred = voxels(shape, [[1, 1, 1, 1]]);
  const ref = voxels(shape, [[4, 3, 5, 1]]);
  const d = Math.hypot(3 * 0.5, 2 * 2, 4 * 3);
  const m = evaluateCase(vol(pred, shape, spacing), vol(ref, shape, spacing), { toleranceMm: 12.8 })['1']!;
  assert.equal(m.dice, 0);
  assert.equal(m.iou, 0);
  assert.equal(m.hd95, d);
  assert.equal(m.hd, d);
  assert.equal(m.assd, d);
  assert.equal(m.nsd, 1); // d ≈ 12.74 ≤ 12.8
  assert.equal(m.volumeDiffMm3, 0);
  assert.equal(m.predVolumeMm3, 3);
  const strict = evaluateCase(vol(pred, shape, spacing), vol(ref, shape, spacing), { toleranceMm: 12.7 })[
    '1'
  ]!;
  assert.equal(strict.nsd, 0);
  // At exactly the tolerance the voxel counts as within (≤).
  const line = maskMetrics(voxels(shape, [[0, 0, 0, 1]]), voxels(shape, [[2, 0, 0, 1]]), shape, [1, 1, 1], 2);
  assert.equal(line.nsd, 1);
  assert.equal(line.hd95, 2);
});

test('empty and one-empty labels, requested labels and regions', () => {
  const shape = [4, 4, 4];
  const pred = voxels(shape, [
    [1, 1, 1, 1],
    [2, 1, 1, 2],
  ]);
  const ref = voxels(shape, [
    [1, 1, 1, 1],
    [1, 2, 1, 3],
  ]);
  const res = evaluateCase(vol(pred, shape), vol(ref, shape), {
    labels: [1, 2, 3, 4],
    regions: [
      { name: 'all', labels: [1, 2, 3] },
      { name: 'none', labels: [7] },
    ],
  });
  assert.deepEqual(Object.keys(res), ['1', '2', '3', '4', 'all', 'none']);
  const only = (m: Metrics) => ({ dice: m.dice, hd95: m.hd95, nsd: m.nsd, rel: m.volumeDiffRel });
  assert.deepEqual(only(res['1']!), { dice: 1, hd95: 0, nsd: 1, rel: 0 });
  assert.deepEqual(only(res['2']!), { dice: 0, hd95: Infinity, nsd: 0, rel: Infinity }); // pred only
  assert.deepEqual(only(res['3']!), { dice: 0, hd95: Infinity, nsd: 0, rel: -1 }); // ref only
  assert.deepEqual(only(res['4']!), { dice: 1, hd95: 0, nsd: 1, rel: 0 }); // neither
  assert.deepEqual(only(res['none']!), { dice: 1, hd95: 0, nsd: 1, rel: 0 });
  assert.equal(res['all']!.dice, 2 / 4 + 0); // |P∩R| = 1 of 2 + 2
  assert.equal(JSON.stringify(res['2']!.hd95), 'null');
  // Default labels: every nonzero value in pred or ref.
  assert.deepEqual(Object.keys(evaluateCase(vol(pred, shape), vol(ref, shape))), ['1', '2', '3']);
});

test('every voxel type and code width gives the same metrics', () => {
  const shape = [12, 5, 4];
  const r = rng(11);
  const n = 240;
  const pred = Int32Array.from({ length: n }, () => (r() < 0.5 ? Math.floor(r() * 4) : 0));
  const ref = Int32Array.from({ length: n }, () => (r() < 0.5 ? Math.floor(r() * 4) : 0));
  const spacing = [0.9, 1.3, 2.2];
  const want = evaluateCase(vol(pred, shape, spacing), vol(ref, shape, spacing));
  const unaligned = new Uint8Array(n + 1).subarray(1);
  unaligned.set(pred);
  const as = (data: ArrayLike<number> | BigInt64Array) => ({ data, shape, spacing });
  for (const p of [
    Uint8Array.from(pred),
    unaligned,
    Float64Array.from(pred),
    Int16Array.from(pred),
    BigInt64Array.from(pred, (v) => BigInt(v)),
  ]) {
    assert.deepEqual(evaluateCase(as(p), as(Uint8Array.from(ref))), want, p.constructor.name);
    assert.deepEqual(
      evaluateCase(as(Int16Array.from(ref)), as(p)),
      evaluateCase(vol(ref, shape, spacing), vol(pred, shape, spacing)),
    );
  }
  // More than 256 distinct values: 16-bit codes, in one map or both.
  const many = Int32Array.from({ length: n }, (_, i) => (i < 100 ? 0 : 1000 + i));
  const manyRes = evaluateCase(vol(many, shape), vol(many, shape), { labels: [1100, 1239, 3] });
  assert.deepEqual(Object.keys(manyRes), ['3', '1100', '1239']);
  assert.equal(manyRes['1100']!.dice, 1);
  assert.equal(manyRes['1239']!.predVoxels, 1);
  assert.equal(
    evaluateCase(vol(many, shape), vol(pred, shape), { labels: [1] })['1']!.refVoxels,
    pred.filter((v) => v === 1).length,
  );
});

test('bad input: shape mismatch, non-integer values, 4-D, bad spacing name the file', () => {
  const a = vol(new Int32Array(24), [2, 3, 4]);
  const b = vol(new Int32Array(24), [4, 3, 2]);
  const names = { pred: 'p/case1.nii.gz', ref: 'r/case1.nii.gz' };
  assert.throws(
    () => evaluateCase(a, b, {}, names),
    (e: Error) => {
      assert.ok(e instanceof EvaluationInputError);
      assert.match(e.message, /shape mismatch: p\/case1\.nii\.gz is 2×3×4 but r\/case1\.nii\.gz is 4×3×2/);
      return true;
    },
  );
  const frac = {
    data: Float32Array.from({ length: 24 }, (_, i) => (i === 5 ? 1.5 : 0)),
    shape: [2, 3, 4],
    spacing: [1, 1, 1],
  };
  assert.throws(
    () => evaluateCase(frac, a, {}, names),
    /p\/case1\.nii\.gz: voxel \(1, 2, 0\) holds 1\.5, not an integer label/,
  );
  const nan = { ...frac, data: new Float32Array(24).fill(NaN) };
  assert.throws(() => evaluateCase(a, nan, {}, names), /r\/case1\.nii\.gz: voxel \(0, 0, 0\) holds NaN/);
  // Scaled integers are fine: stored 2 · 0.5 = 1.
  const scaled = {
    data: new Int16Array(24).fill(2),
    shape: [2, 3, 4],
    spacing: [1, 1, 1],
    sclSlope: 0.5,
    sclInter: 0,
  };
  assert.equal(evaluateCase(scaled, scaled)['1']!.dice, 1);
  const t4 = vol(new Int32Array(48), [2, 3, 4, 2]);
  assert.throws(() => evaluateCase(t4, t4, {}, names), /r\/case1\.nii\.gz: a label map must be 3-D/);
  assert.throws(
    () => evaluateCase(a, vol(new Int32Array(24), [2, 3, 4], [1, 0, 1]), {}, names),
    /r\/case1.*spacing/,
  );
  assert.throws(() => evaluateCase(a, a, { toleranceMm: -1 }), RangeError);
  assert.throws(() => evaluateCase(a, a, { regions: [{ name: '3', labels: [1] }] }), RangeError);
});

/** A random label map: a few ellipsoids of labels 1..3 (in mm), some voxels flipped at random. */
function randomLabels(
  r: () => number,
  shape: [number, number, number],
  spacing: number[],
  noise: number,
): Int32Array {
  const [nx, ny, nz] = shape;
  const a = new Int32Array(nx * ny * nz);
  const blobs = Array.from({ length: 2 + Math.floor(r() * 3) }, () => ({
    c: [r() * nx * spacing[0]!, r() * ny * spacing[1]!, r() * nz * spacing[2]!],
    rad: [1 + r() * 6, 1 + r() * 6, 1 + r() * 8],
    label: 1 + Math.floor(r() * 3),
  }));
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = [i * spacing[0]!, j * spacing[1]!, k * spacing[2]!];
        let v = 0;
        for (const b of blobs) {
          const q = p.reduce((s, x, a) => s + ((x - b.c[a]!) / b.rad[a]!) ** 2, 0);
          if (q <= 1) v = b.label;
        }
        if (r() < noise) v = Math.floor(r() * 4);
        a[i + nx * (j + ny * k)] = v;
      }
    }
  }
  return a;
}

test('every metric equals numpy + scipy.ndimage on random anisotropic label pairs', (t) => {
  if (!scipyAvailable()) {
    t.skip('/usr/bin/python3 lacks numpy or scipy: install python3-scipy for this reference test');
    return;
  }
  const r = rng(2024);
  const cases: RefCase[] = [];
  const shapes: [number, number, number][] = [
    [13, 11, 9],
    [16, 9, 7],
    [9, 14, 12],
    [12, 12, 1],
    [20, 7, 10],
  ];
  shapes.forEach((shape, n) => {
    const spacing: [number, number, number] = [0.6 + r() * 1.5, 0.6 + r() * 1.5, 1 + r() * 3];
    const ref = randomLabels(r, shape, spacing, n === 4 ? 0.1 : 0.01);
    // Prediction: the reference with a shifted copy of its blobs, and noise; case 1 has no label 3.
    const pred = randomLabels(r, shape, spacing, 0.02);
    for (let i = 0; i < pred.length; i++) if (r() < 0.5 && ref[i]) pred[i] = ref[i]!;
    if (n === 1) for (let i = 0; i < pred.length; i++) if (pred[i] === 3) pred[i] = 0;
    const targets = { '1': [1], '2': [2], '3': [3], '5': [5], fg: [1, 2, 3], core: [1, 3] };
    cases.push({ pred, ref, shape, spacing, targets, toleranceMm: n % 2 ? 1.5 : 2.5 });
  });
  // One case with everything empty in pred.
  cases.push({ ...cases[0]!, pred: new Int32Array(cases[0]!.pred.length) });
  const expected = scipyMetrics(cases);
  let distances = 0;
  cases.forEach((c, n) => {
    const got = evaluateCase(vol(c.pred, c.shape, c.spacing), vol(c.ref, c.shape, c.spacing), {
      labels: [1, 2, 3, 5],
      regions: [
        { name: 'fg', labels: [1, 2, 3] },
        { name: 'core', labels: [1, 3] },
      ],
      toleranceMm: c.toleranceMm,
    });
    for (const key of Object.keys(c.targets)) {
      const e = expected[n]![key]!;
      const g = got[key]!;
      for (const k of METRIC_KEYS) {
        const want = e[k] === null ? Infinity : e[k]!;
        const ok = want === g[k] || Math.abs(want - g[k]) <= 1e-9 * Math.max(1, Math.abs(want));
        assert.ok(ok, `case ${n} ${key} ${k}: got ${g[k]}, scipy ${want}`);
      }
      if (g.predVoxels > 0 && g.refVoxels > 0 && g.hd > 0) distances++;
    }
  });
  assert.ok(distances >= 15, `only ${distances} entries with nonzero distances`);
});
