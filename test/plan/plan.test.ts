// Fingerprint and planning on a tiny synthetic dataset: counts and intensity statistics against a
// plain recount of the files, and plans that follow nnU-Net's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { readDataset } from '../../src/dataset/index.js';
import { readImage, scaledValues } from '../../src/io/index.js';
import {
  computeFingerprint,
  planDataset,
  planTopology,
  targetSpacing,
  type Fingerprint,
} from '../../src/plan/index.js';

test('fingerprint counts, sizes and foreground statistics agree with a recount of the files', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-fp-'));
  const { dir } = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 3 });
  const ds = await readDataset(dir);
  const fp = await computeFingerprint(ds);
  assert.equal(fp.cases.length, 3);
  let fgSum = [0, 0];
  let fgN = 0;
  for (const [i, c] of ds.training.entries()) {
    const lab = await readImage(c.label!);
    const f = fp.cases[i]!;
    assert.deepEqual(f.shape, [lab.shape[2], lab.shape[1], lab.shape[0]]);
    assert.deepEqual(f.spacing, [lab.spacing[2], lab.spacing[1], lab.spacing[0]]);
    const counts = new Map<number, number>();
    for (const v of lab.data as Uint8Array) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const v of ds.labelValues) {
      assert.equal(f.classVoxels[String(v)], counts.get(v) ?? 0, `case ${c.id} label ${v}`);
      if (v > 0)
        assert.equal(
          f.classComponents[String(v)]!.reduce((a, b) => a + b, 0),
          counts.get(v) ?? 0,
        );
    }
    // the foreground's bounding box, recounted voxel by voxel (the label's data is x fastest)
    const [X, Y] = [lab.shape[0]!, lab.shape[1]!];
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-1, -1, -1];
    (lab.data as Uint8Array).forEach((l, j) => {
      if (l === 0) return;
      const zyx = [Math.floor(j / (X * Y)), Math.floor(j / X) % Y, j % X];
      zyx.forEach((v, d) => {
        lo[d] = Math.min(lo[d]!, v);
        hi[d] = Math.max(hi[d]!, v);
      });
    });
    assert.deepEqual(
      f.foregroundShape,
      [0, 1, 2].map((d) => hi[d]! - lo[d]! + 1),
      `case ${c.id} box`,
    );
    const chans = await Promise.all(c.channels.map((ch) => readImage(ch.path)));
    chans.forEach((ch, k) => {
      const vals = scaledValues(ch, 'float64');
      (lab.data as Uint8Array).forEach((l, j) => {
        if (l > 0) fgSum[k] += vals[j]!;
      });
    });
    fgN += [...(lab.data as Uint8Array)].filter((l) => l > 0).length;
  }
  // tiny cases have < 10,000 foreground voxels each, so every one is in the sample
  fp.foregroundIntensity.forEach((s, k) => {
    assert.equal(s.samples, fgN);
    assert.ok(Math.abs(s.mean - fgSum[k]! / fgN) < 1e-3 * Math.max(1, Math.abs(s.mean)), `channel ${k} mean`);
    assert.ok(s.p005 <= s.p50 && s.p50 <= s.p995 && s.min <= s.p005 && s.p995 <= s.max);
  });
  for (let d = 0; d < 3; d++) {
    const sorted = fp.cases.map((c) => c.foregroundShape![d]!).sort((a, b) => a - b);
    assert.equal(fp.medianForegroundShape![d], sorted[1], `median foreground box, axis ${d}`);
  }
  fgSum = [0, 0];
});

const fakeFingerprint = (spacings: number[][], shape: number[], channels = ['MRI']): Fingerprint => ({
  version: 1,
  axes: 'zyx',
  dataset: 'fake',
  channelNames: channels,
  labels: { background: [0], organ: [1] },
  cases: spacings.map((s, i) => ({
    id: `c${i}`,
    spacing: s,
    shape,
    croppedShape: shape,
    classVoxels: {},
    classVolumeMm3: {},
    classComponents: {},
  })),
  foregroundIntensity: channels.map(() => ({
    mean: 50,
    std: 20,
    min: -100,
    max: 300,
    p005: -50,
    p50: 50,
    p995: 250,
    samples: 100,
  })),
  medianSpacing: [0, 1, 2].map(
    (d) => [...spacings.map((s) => s[d]!)].sort((a, b) => a - b)[spacings.length >> 1]!,
  ),
  medianShape: shape,
  medianCroppedShape: shape,
});

test('configurations carry the median foreground box at their own spacing; a fingerprint without one plans as before', () => {
  const fp = fakeFingerprint(
    Array.from({ length: 3 }, () => [3, 0.5, 0.5]),
    [40, 300, 300],
  );
  const without = planDataset(fp, { memoryGb: 8 });
  assert.ok(Object.values(without.configurations).every((c) => c.foregroundShape === undefined));
  const plans = planDataset({ ...fp, medianForegroundShape: [10, 60, 80] }, { memoryGb: 8 });
  for (const c of Object.values(plans.configurations)) {
    // voxels at the case spacing → voxels at the configuration's spacing
    const want = [10, 60, 80].map((v, d) =>
      Math.max(1, Math.round((v * fp.medianSpacing[d]!) / c.spacing[d]!)),
    );
    assert.deepEqual(c.foregroundShape, want, c.name);
    // the box is a fact about the data: nnU-Net's own plan does not change with it
    assert.deepEqual(c.patch, without.configurations[c.name]!.patch, c.name);
  }
  assert.ok(plans.configurations['3d_lowres'], 'a lowres stage to check the rescaling on');
  assert.ok(plans.configurations['3d_lowres']!.foregroundShape![2]! < 80);
});

test('target spacing: the median, and the 10th percentile for the coarse axis of anisotropic data', () => {
  const iso = fakeFingerprint(
    [
      [1, 1, 1],
      [1.2, 1, 1],
      [0.8, 1, 1],
    ],
    [100, 100, 100],
  );
  assert.deepEqual(targetSpacing(iso), [1, 1, 1]);
  const sp = [4, 4.5, 5, 5.5, 6, 3, 3.5, 6.5, 7, 8].map((z) => [z, 0.6, 0.6]);
  const aniso = fakeFingerprint(sp, [20, 320, 320]);
  const t = targetSpacing(aniso);
  assert.ok(Math.abs(t[0]! - 3.45) < 1e-9, `coarse axis from the 10th percentile: ${t[0]}`);
  assert.deepEqual(t.slice(1), [0.6, 0.6]);
});

test('topology: in-plane pooling first and 1×3×3 kernels while the slice axis is much coarser', () => {
  const topo = planTopology([20, 256, 256], [4, 0.6, 0.6], 6);
  assert.deepEqual(topo.kernelSizes[0], [1, 3, 3]);
  assert.deepEqual(topo.strides[1], [1, 2, 2]);
  assert.ok(
    topo.strides.some((s) => s[0] === 2),
    'the slice axis is pooled once in-plane became as coarse',
  );
  for (let d = 0; d < 3; d++) {
    const total = topo.strides.reduce((p, s) => p * s[d]!, 1);
    assert.equal(topo.patch[d]! % total, 0, 'patch divisible by the total stride');
  }
  const iso = planTopology([64, 64, 64], [1, 1, 1], 6);
  assert.equal(iso.strides.length, 5, '64³: pool until 4 voxels, 5 stages');
});

test('plans: CT channels get dataset statistics, a large image gets 3d_lowres, batch ≥ 2', () => {
  const fp = fakeFingerprint(
    [
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ],
    [400, 400, 400],
    ['CT'],
  );
  const plans = planDataset(fp, { memoryGb: 8 });
  const full = plans.configurations['3d_fullres']!;
  assert.equal(full.normalization[0]!.scheme, 'ct');
  assert.deepEqual(full.normalization[0]!.ct, { mean: 50, std: 20, p005: -50, p995: 250 });
  assert.ok(full.batchSize >= 2);
  assert.ok(plans.configurations['3d_lowres'], plans.lowresReason);
  assert.ok(plans.configurations['3d_lowres']!.spacing[0]! > 1);
  assert.equal(full.network.features[0], 32);
  assert.ok(full.network.features.every((f) => f <= 320));
  const res = planDataset(fp, { memoryGb: 8, architecture: 'residual', squeezeExcitation: true });
  for (const c of Object.values(res.configurations)) {
    assert.equal(c.network.architecture, 'residual');
    assert.equal(c.network.squeezeExcitation, true);
    assert.equal(c.network.encoderBlocks[0], 1);
  }
  const small = planDataset(fakeFingerprint([[1, 1, 1]], [40, 40, 40]), { memoryGb: 8 });
  assert.equal(small.configurations['3d_lowres'], undefined);
  assert.ok(
    small.configurations['3d_fullres']!.patch.every((p) => p <= 40 + 8 && p > 0),
    `${small.configurations['3d_fullres']!.patch}`,
  );
});
