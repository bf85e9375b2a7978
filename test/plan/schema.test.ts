// What users edit is validated: plans.json, inference.json, splits.json and fingerprint.json are
// read through schemas, and a hand edit gone wrong is refused with one line naming the file, the
// field's path and what was expected (no "size.reduce is not a function" later).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  planDataset,
  readPlans,
  readFingerprint,
  validatePlans,
  type Fingerprint,
  type Plans,
} from '../../src/plan/index.js';
import { readRecipe, writeRecipe, type InferenceRecipe } from '../../src/infer/recipe.js';
import { loadOrCreateSplits, makeSplits, readSplits } from '../../src/train/splits.js';
import { SchemaError } from '../../src/io/jsonFile.js';

const fingerprint = (): Fingerprint => ({
  version: 1,
  axes: 'zyx',
  dataset: 'fake',
  channelNames: ['CT'],
  labels: { background: [0], liver: [1], tumour: [2] },
  cases: [0, 1, 2].map((i) => ({
    id: `c${i}`,
    spacing: [2.5, 0.8, 0.8],
    shape: [120, 400, 400],
    croppedShape: [100, 300, 300],
    classVoxels: { '0': 100, '1': 20, '2': 3 },
    classVolumeMm3: { '1': 32, '2': 4.8 },
    classComponents: { '1': [20], '2': [2, 1] },
  })),
  foregroundIntensity: [
    { mean: 50, std: 20, min: -100, max: 300, p005: -50, p50: 50, p995: 250, samples: 9 },
  ],
  medianSpacing: [2.5, 0.8, 0.8],
  medianShape: [120, 400, 400],
  medianCroppedShape: [100, 300, 300],
});

/** Plans as the planner writes them: a large image, so 2d, 3d_fullres, 3d_lowres and the cascade. */
const plans = (): Plans =>
  JSON.parse(JSON.stringify(planDataset(fingerprint(), { memoryGb: 1, maxPatchVoxels: 24 ** 3 }))) as Plans;

// Hand edits put any value anywhere: the edited JSON is untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Edited = any;

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'medseg-schema-'));

/** The error of reading `value` as plans.json, as the user sees it (file name without the folder). */
async function plansError(edit: (p: Edited) => void): Promise<string> {
  const dir = tmp();
  const file = path.join(dir, 'plans.json');
  const p = plans() as Edited;
  edit(p);
  writeFileSync(file, JSON.stringify(p));
  const err = await readPlans(file).then(
    () => assert.fail('the edited plans were accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SchemaError, String(err));
  assert.equal(err.message.split('\n').length, 1, 'one line');
  assert.ok(err.message.startsWith(`${file}: `), err.message);
  return err.message.slice(dir.length + 1);
}

test('the planner writes plans its own schema accepts (every configuration, the cascade too)', async () => {
  const p = plans();
  assert.deepEqual(Object.keys(p.configurations).sort(), [
    '2d',
    '3d_cascade_crop',
    '3d_cascade_prior',
    '3d_fullres',
    '3d_lowres',
  ]);
  const file = path.join(tmp(), 'plans.json');
  writeFileSync(file, JSON.stringify(p, null, 2));
  assert.deepEqual(await readPlans(file), p);
  assert.deepEqual(validatePlans(p), p);
});

test('hand-edited plans: one line naming plans.json, the field path and what was expected', async () => {
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].patch = 'big')),
    'plans.json: configurations.3d_fullres.patch: expected an array, got "big"',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].batchSize = -2)),
    'plans.json: configurations.3d_fullres.batchSize: expected a number > 0, got -2',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].batchSize = 2.5)),
    'plans.json: configurations.3d_fullres.batchSize: expected an integer, got 2.5',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_huge'] = p.configurations['3d_fullres'])),
    'plans.json: configurations.3d_huge: unknown configuration (expected one of 2d, 3d_fullres, 3d_lowres, 3d_cascade_prior, 3d_cascade_crop)',
  );
  assert.equal(
    await plansError((p) => delete p.configurations['2d'].spacing),
    'plans.json: configurations.2d.spacing: missing (expected an array)',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_lowres'].batchsize = 4)),
    "plans.json: configurations.3d_lowres: unknown field 'batchsize'",
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].network.features[2] = '128')),
    'plans.json: configurations.3d_fullres.network.features[2]: expected a number, got "128"',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].imageInterpolation = 'bspline')),
    'plans.json: configurations.3d_fullres.imageInterpolation: expected "linear" or "cubic", got "bspline"',
  );
  assert.equal(await plansError((p) => (p.version = 2)), 'plans.json: version: expected 1, got 2');
});

test('hand-edited plans: fields that must agree with each other', async () => {
  const full = plans().configurations['3d_fullres']!;
  const strides = full.network.strides.reduce((a, s) => a.map((v, d) => v * s[d]!), [1, 1, 1]);
  assert.match(
    await plansError((p) => (p.configurations['3d_fullres'].patch = full.patch.map((v) => v + 1))),
    new RegExp(
      `^plans\\.json: configurations\\.3d_fullres\\.patch: expected multiples of ${strides.join(',')} \\(the product of network\\.strides per axis\\)`,
    ),
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].patch = [64, 64])),
    'plans.json: configurations.3d_fullres.patch: expected 3 entries (network.dims is 3), got 2',
  );
  assert.equal(
    await plansError((p) => (p.configurations['2d'].name = '3d_fullres')),
    'plans.json: configurations.2d.name: expected "2d" (the configuration\'s key), got "3d_fullres"',
  );
  assert.equal(
    await plansError((p) => p.configurations['3d_fullres'].network.decoderConvs.pop()),
    `plans.json: configurations.3d_fullres.network.decoderConvs: expected ${full.network.features.length - 1} entries (one per stage but the deepest: features has ${full.network.features.length}), got ${full.network.features.length - 2}`,
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_fullres'].network.numClasses = 2)),
    'plans.json: configurations.3d_fullres.network.numClasses: expected 3 (one per labelValues entry), got 2',
  );
  assert.equal(
    await plansError((p) => (p.configurations['3d_cascade_prior'].network.inputChannels = 1)),
    'plans.json: configurations.3d_cascade_prior.network.inputChannels: expected 3 (1 channel(s) + 2 stage-1 classes), got 1',
  );
  assert.equal(
    await plansError((p) => delete p.configurations['3d_fullres'].normalization[0].ct),
    'plans.json: configurations.3d_fullres.normalization[0].ct: missing (scheme "ct" needs the foreground statistics mean, std, p005, p995)',
  );
});

test('plans.json that is not JSON: one line', async () => {
  const file = path.join(tmp(), 'plans.json');
  writeFileSync(file, '{"version": 1,');
  await assert.rejects(readPlans(file), (e: Error) => {
    assert.ok(e instanceof SchemaError);
    assert.match(e.message, /plans\.json: not valid JSON \(/);
    return true;
  });
});

test('fingerprint.json round-trips (NaN statistics of a dataset without foreground too) and is checked', async () => {
  const dir = tmp();
  const file = path.join(dir, 'fingerprint.json');
  const fp = fingerprint();
  fp.foregroundIntensity[0] = {
    mean: NaN,
    std: NaN,
    min: NaN,
    max: NaN,
    p005: NaN,
    p50: NaN,
    p995: NaN,
    samples: 0,
  };
  writeFileSync(file, JSON.stringify(fp));
  assert.deepEqual(await readFingerprint(file), fp);
  writeFileSync(file, JSON.stringify({ ...fp, medianSpacing: [2.5, 0.8] }));
  await assert.rejects(readFingerprint(file), {
    message: `${file}: medianSpacing: expected exactly 3 entries, got 2`,
  });
  // the foreground's box: absent in older fingerprints (above), read back where written
  const boxed = {
    ...fp,
    cases: fp.cases.map((c) => ({ ...c, foregroundShape: [4, 30, 31] })),
    medianForegroundShape: [4, 30, 31],
  };
  writeFileSync(file, JSON.stringify(boxed));
  assert.deepEqual((await readFingerprint(file)).medianForegroundShape, [4, 30, 31]);
  boxed.cases[0]!.foregroundShape = [0, 30, 31];
  writeFileSync(file, JSON.stringify(boxed));
  await assert.rejects(
    readFingerprint(file),
    (e: Error) => e.message === `${file}: cases[0].foregroundShape[0]: expected a number > 0, got 0`,
  );
});

const recipe = (): InferenceRecipe => ({
  version: 1,
  configurations: ['3d_fullres', '2d'],
  folds: [0, 1, 2, 3, 4],
  checkpoint: 'best',
  postprocessing: {
    foreground: false,
    perLabel: { '1': true, '2': false },
    dice: { before: 0.8, after: 0.82 },
    diceByLabel: { '1': { before: 0.9, after: 0.93 }, '2': { before: NaN, after: NaN } },
    connectivity: 26,
  },
  candidates: [{ members: ['3d_fullres', '2d'], meanDice: 0.8, dicePerLabel: { '1': 0.9, '2': null } }],
  cases: 10,
});

test('inference.json: what find-best writes reads back; a wrong type is one line', async () => {
  const dir = tmp();
  await writeRecipe(dir, recipe());
  assert.deepEqual(await readRecipe(dir), recipe());
  const file = path.join(dir, 'inference.json');
  const cases: [(r: Edited) => void, string][] = [
    [(r) => (r.folds = '0'), 'folds: expected an array, got "0"'],
    [(r) => (r.folds = [0, -1]), 'folds[1]: expected a number ≥ 0, got -1'],
    [
      (r) => (r.configurations = ['3d_fullres', '3d']),
      'configurations[1]: expected "2d" or "3d_fullres" or "3d_lowres" or "3d_cascade_prior" or "3d_cascade_crop", got "3d"',
    ],
    [(r) => (r.checkpoint = 'final'), 'checkpoint: expected "best" or "latest", got "final"'],
    [
      (r) => (r.postprocessing.connectivity = 8),
      'postprocessing.connectivity: expected 6 or 18 or 26, got 8',
    ],
    [(r) => (r.postprocesing = null), "(top level): unknown field 'postprocesing'"],
  ];
  for (const [edit, want] of cases) {
    const r = JSON.parse(JSON.stringify(recipe())) as Edited;
    edit(r);
    writeFileSync(file, JSON.stringify(r));
    await assert.rejects(readRecipe(dir), (e: Error) => {
      assert.ok(e instanceof SchemaError, String(e));
      assert.equal(e.message, `${file}: ${want}`);
      return true;
    });
  }
});

test('splits.json: made splits read back; wrong types and unknown cases are one line', async () => {
  const dir = tmp();
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const made = await loadOrCreateSplits(dir, ids);
  assert.deepEqual(made, makeSplits(ids));
  assert.deepEqual(await loadOrCreateSplits(dir, ids), made);
  const file = path.join(dir, 'splits.json');
  const write = (v: unknown) => writeFileSync(file, JSON.stringify(v));
  write([{ train: 'a,b', val: ['c'] }]);
  await assert.rejects(readSplits(file), { message: `${file}: [0].train: expected an array, got "a,b"` });
  write([{ train: ['a'], val: [3] }]);
  await assert.rejects(readSplits(file), { message: `${file}: [0].val[0]: expected a string, got 3` });
  write({ train: ['a'], val: ['b'] });
  await assert.rejects(readSplits(file), {
    message: `${file}: (top level): expected an array, got {"train":["a"],"val":["b"]}`,
  });
  write([{ train: ['a', 'b'], val: ['zz'] }]);
  await assert.rejects(loadOrCreateSplits(dir, ids), {
    message: `${file}: [0].val[0]: case 'zz' is not in the dataset`,
  });
});
