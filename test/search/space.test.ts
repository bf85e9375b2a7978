// The search space: one clear error naming the option for an unknown option, an empty range, a
// value the option cannot take; the default space is valid; trial parameters become a plan the
// way the planner makes one, and an impossible one is refused with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SPACE, readSpace, validateSpace, fromUnit, toUnit } from '../../src/search/space.js';
import { applyParams, trainOptionsOf, TrialPlanError } from '../../src/search/trialPlan.js';
import { planDataset, trainingBytesPerSample } from '../../src/plan/planner.js';
import type { Fingerprint } from '../../src/plan/fingerprint.js';
import { validateSpec } from '../../src/nn/unet.js';

test('the default space is valid', () => {
  assert.deepEqual(validateSpace(DEFAULT_SPACE), DEFAULT_SPACE);
});

test('bad spaces: one error naming the file and every bad option', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-space-'));
  const file = path.join(dir, 'space.json');
  const cases: [unknown, RegExp][] = [
    [{ lrr: { type: 'float', low: 1, high: 2 } }, /unknown option 'lrr' \(known: lr, optimizer/],
    [{ lr: { type: 'float', low: 0.1, high: 0.01 } }, /lr: empty range \(low 0.1 > high 0.01\)/],
    [{ optimizer: { type: 'choice', values: [] } }, /optimizer: empty choice/],
    [
      { optimizer: { type: 'choice', values: ['sgd', 'adam'] } },
      /optimizer: "adam" not among "sgd", "adamw"/,
    ],
    [{ lr: { type: 'float', low: 0, high: 0.1, log: true } }, /lr: a log range needs low > 0/],
    [{ depth: { type: 'float', low: 2, high: 4 } }, /depth: is an int option, not float/],
    [{ depth: { type: 'int', low: 2, high: 40 } }, /depth: high 40 above 8/],
    [{ oversampling: { type: 'float', low: 0, high: 2 } }, /oversampling: high 2 above 1/],
    [{ augmentation: { type: 'float', low: -1, high: 1 } }, /augmentation: low -1 below 0/],
    [{ ceWeight: { type: 'int', low: 0, high: 2 } }, /ceWeight: is a float option, not int/],
    [{ lr: { type: 'float', low: 0.1 } }, /lr\.high/],
    [{ lr: { type: 'uniform', low: 0.1, high: 1 } }, /lr\.type/],
    [{}, /the space has no option/],
  ];
  for (const [json, re] of cases) {
    writeFileSync(file, JSON.stringify(json));
    await assert.rejects(readSpace(file), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(file), e.message);
      return true;
    });
  }
  // several problems at once are all named
  writeFileSync(
    file,
    JSON.stringify({ a: { type: 'int', low: 1, high: 2 }, batch: { type: 'int', low: 4, high: 2 } }),
  );
  await assert.rejects(readSpace(file), /unknown option 'a'.*batch: empty range/);
  writeFileSync(file, '{ "lr": ');
  await assert.rejects(readSpace(file), /not valid JSON/);
  await assert.rejects(
    readSpace(path.join(dir, 'none.json')),
    /none\.json: cannot read the search space \(ENOENT\)/,
  );
});

test('unit mapping: log ranges in log space, int ranges widened by half a step', () => {
  const lr = { type: 'float' as const, low: 1e-4, high: 1e-2, log: true };
  assert.ok(Math.abs(fromUnit(lr, 0.5) - 1e-3) < 1e-12);
  assert.ok(Math.abs(toUnit(lr, 1e-3) - 0.5) < 1e-12);
  const k = { type: 'int' as const, low: 1, high: 4 };
  assert.deepEqual(
    [0, 0.24, 0.26, 0.74, 0.76, 1].map((u) => fromUnit(k, u)),
    [1, 1, 2, 3, 4, 4],
  );
});

function fingerprint(): Fingerprint {
  // a 3D MR-like fingerprint: 1 mm isotropic, 96³ median image, labels 0, 1, 2
  return {
    dataset: 'toy',
    channelNames: ['MRI'],
    labels: { background: [0], a: [1], b: [2] },
    medianSpacing: [1, 1, 1],
    medianCroppedShape: [96, 96, 96],
    cases: [{ id: 'c', shape: [96, 96, 96], croppedShape: [96, 96, 96], spacing: [1, 1, 1] }],
    foregroundIntensity: [{ mean: 0, std: 1, p005: -2, p995: 2, min: -3, max: 3, median: 0 }],
  } as unknown as Fingerprint;
}

test('trial parameters become a plan the planner could have made; impossible ones fail with the reason', () => {
  const plans = planDataset(fingerprint(), { memoryGb: 4, maxPatchVoxels: 64 ** 3 });
  const base = plans.configurations['3d_fullres']!;
  const out = applyParams(plans, '3d_fullres', {
    width: 8,
    depth: 3,
    patchScale: 0.5,
    batch: 3,
    residual: true,
    se: true,
  });
  const c = out.configurations['3d_fullres']!;
  assert.deepEqual(validateSpec(c.network), []);
  assert.deepEqual(c.network.features, [8, 16, 32]);
  assert.equal(c.network.strides.length, 3);
  assert.deepEqual(
    c.patch,
    base.patch.map((p) => Math.round(p / 2 / 4) * 4),
  );
  assert.equal(c.batchSize, 3);
  assert.equal(c.network.architecture, 'residual');
  assert.deepEqual(c.network.encoderBlocks, [1, 3, 4]);
  assert.equal(c.network.squeezeExcitation, true);
  // the input plans are untouched, other configurations too
  assert.equal(plans.configurations['3d_fullres']!.batchSize, base.batchSize);
  assert.deepEqual(out.configurations['2d'], plans.configurations['2d']);
  // a patch of 16 can pool 16 → 8 → 4: 3 stages, not 6
  assert.throws(
    () => applyParams(plans, '3d_fullres', { patchScale: 16 / base.patch[0]!, depth: 6 }),
    (e: Error) =>
      e instanceof TrialPlanError &&
      /depth 6: a patch of \[16, 16, 16\] can be pooled to at most 3 stages/.test(e.message),
  );
  // over the memory budget
  const big = applyParams(plans, '3d_fullres', { width: 32 });
  const perSample = trainingBytesPerSample(
    big.configurations['3d_fullres']!.patch,
    big.configurations['3d_fullres']!.network.features,
    big.configurations['3d_fullres']!.network.strides,
    1,
  );
  const tooMany = Math.ceil((4 * 2 ** 30) / perSample) + 1;
  assert.throws(
    () => applyParams(plans, '3d_fullres', { width: 32, batch: tooMany }),
    /over the plan's 4\.0 GB/,
  );
  assert.throws(() => applyParams(plans, '3d_lowres', {}), /no configuration '3d_lowres'/);
  assert.deepEqual(trainOptionsOf({ lr: 0.003, optimizer: 'adamw', width: 8, epochs: 5 }), {
    initialLr: 0.003,
    optimizer: 'adamw',
    epochs: 5,
  });
});
