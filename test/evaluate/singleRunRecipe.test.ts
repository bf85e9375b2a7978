// The inference recipe of a run without cross-validation (a budgeted single fold): find-best's rule
// on the fold's validation cases when it has independent ones, else the prior from the training
// labels; written to inference.json, never over find-best's own, and applied by predict.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeImage, readImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';
import { plan } from '../../src/plan/run.js';
import { writePlans } from '../../src/plan/planner.js';
import { writeSingleRunRecipe } from '../../src/evaluate/singleRunRecipe.js';
import { readRecipe, writeRecipe } from '../../src/infer/recipe.js';
import { command as trainCommand } from '../../src/cli/train.js';
import { predict } from '../../src/infer/predict.js';
import { applyPostprocessing, dice } from '../../src/postprocess/index.js';
import { writeReport } from '../../src/report/report.js';
import { fillBox, floodLabel } from '../postprocess/helpers.js';

// [z, y, x] in C order = NIfTI's [x, y, z] with x fastest
const SHAPE: [number, number, number] = [12, 20, 20];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];
const IDS = ['case0', 'case1', 'case2', 'case3'];

function volume(data: Uint8Array | Float32Array): Volume {
  return {
    data,
    shape: [SHAPE[2], SHAPE[1], SHAPE[0]],
    spacing: [1, 1, 1],
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
    datatype: data instanceof Uint8Array ? 'uint8' : 'float32',
    sclSlope: 1,
    sclInter: 0,
  };
}

/** The label map of case k: one organ, or two kidneys under label 1. */
function labelOf(kind: 'one' | 'two', k: number): Uint8Array {
  const m = new Uint8Array(N);
  if (kind === 'one') fillBox(m, SHAPE, [2 + (k % 3), 8 + (k % 3)], [4, 12], [4 + (k % 2), 12], 1);
  else {
    fillBox(m, SHAPE, [3, 9], [6, 12], [1, 6 + (k % 2)], 1);
    fillBox(m, SHAPE, [3, 9], [6, 12], [12, 18], 1);
  }
  return m;
}

/** A tiny nnU-Net v2 dataset: one channel (label + deterministic noise), 4 cases. */
async function writeDataset(root: string, kind: 'one' | 'two'): Promise<string> {
  const ds = path.join(root, `Dataset_${kind}`);
  mkdirSync(path.join(ds, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(ds, 'labelsTr'), { recursive: true });
  writeFileSync(
    path.join(ds, 'dataset.json'),
    JSON.stringify({
      channel_names: { '0': 'MRI' },
      labels: { background: 0, organ: 1 },
      numTraining: IDS.length,
      file_ending: '.nii.gz',
    }),
  );
  for (const [k, id] of IDS.entries()) {
    const label = labelOf(kind, k);
    const image = Float32Array.from(label, (v, i) => 2 * v + 0.3 * Math.sin(i * 0.7 + k));
    await writeImage(path.join(ds, 'imagesTr', `${id}_0000.nii.gz`), volume(image));
    await writeImage(path.join(ds, 'labelsTr', `${id}.nii.gz`), volume(label));
  }
  return ds;
}

/** A planned model folder with the given splits (nothing trained). */
async function modelFolder(root: string, ds: string, splits: { train: string[]; val: string[] }[]) {
  const model = path.join(root, `model_${path.basename(ds)}_${Math.random().toString(36).slice(2)}`);
  const { plans } = await plan(ds, model, { memoryGb: 1 });
  writeFileSync(path.join(model, 'splits.json'), JSON.stringify(splits));
  return { model, plans };
}

/**
 * Fold 0 as training leaves it: a checkpoint and an up-to-date validation folder whose predictions
 * are given here (the checkpoint's content is not read by the recipe: only its mtime).
 */
async function fakeValidatedFold(
  model: string,
  predictions: Record<string, Uint8Array>,
  fold = 0,
  checkpoint: 'best' | 'latest' = 'best',
): Promise<void> {
  const foldDir = path.join(model, '3d_fullres', `fold_${fold}`);
  const val = path.join(foldDir, 'validation');
  mkdirSync(val, { recursive: true });
  const ckpt = path.join(foldDir, `checkpoint_${checkpoint}.safetensors`);
  writeFileSync(ckpt, 'not read');
  for (const [id, p] of Object.entries(predictions))
    await writeImage(path.join(val, `${id}.nii.gz`), volume(p));
  writeFileSync(
    path.join(val, 'summary.json'),
    JSON.stringify({
      config: '3d_fullres',
      fold,
      checkpoint,
      checkpointMtimeMs: statSync(ckpt).mtimeMs,
      cases: [],
      meanDice: null,
    }),
  );
}

const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-singlerun-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('an independent validation case: find-best rule on it removes the far false positive', async () => {
  const ds = await writeDataset(root, 'one');
  const { model } = await modelFolder(root, ds, [{ train: ['case1', 'case2', 'case3'], val: ['case0'] }]);
  const reference = labelOf('one', 0);
  const prediction = reference.slice();
  fillBox(prediction, SHAPE, [10, 12], [16, 19], [16, 19], 1); // far false positive
  await fakeValidatedFold(model, { case0: prediction });
  const logs: string[] = [];
  const r = await writeSingleRunRecipe({
    dataset: ds,
    modelDir: model,
    config: '3d_fullres',
    fold: 0,
    log: (s) => logs.push(s),
  });
  assert.ok(r.written);
  const recipe = await readRecipe(model);
  assert.ok(recipe);
  assert.equal(recipe.postprocessingChoice?.rule, 'validation');
  assert.equal(recipe.postprocessingChoice?.cases, 1);
  assert.deepEqual(recipe.configurations, ['3d_fullres']);
  assert.deepEqual(recipe.folds, [0]);
  // the checkpoint that made the validation predictions the recipe was chosen on
  assert.equal(recipe.checkpoint, 'best');
  assert.equal(recipe.postprocessing?.foreground, true);
  // the scores are those of the prediction, computed independently
  assert.ok(Math.abs(recipe.candidates[0]!.meanDice! - dice(prediction, reference, 1)) < 1e-12);
  assert.ok(Math.abs(recipe.postprocessing!.dice.before - dice(prediction, reference, 1)) < 1e-12);
  assert.equal(recipe.postprocessing!.dice.after, 1);
  assert.deepEqual(applyPostprocessing(prediction, SHAPE, recipe.postprocessing!), reference);
  // label 1's own step changes nothing after the foreground step (a tie): the prior turned it on
  assert.equal(recipe.postprocessing?.perLabel['1'], true);
  assert.match(
    logs.join('\n'),
    /largest foreground component, largest component of label 1 \(validation: find-best's rule on the 1 validation case/,
  );
});

test('a validation case no step changes: the prior decides the tied steps', async () => {
  const ds = await writeDataset(root, 'one');
  const { model } = await modelFolder(root, ds, [{ train: ['case1', 'case2', 'case3'], val: ['case0'] }]);
  await fakeValidatedFold(model, { case0: labelOf('one', 0) });
  await writeSingleRunRecipe({ dataset: ds, modelDir: model, config: '3d_fullres', fold: 0 });
  const recipe = (await readRecipe(model))!;
  assert.equal(recipe.postprocessingChoice?.rule, 'validation');
  assert.equal(recipe.postprocessing?.foreground, true);
  assert.equal(recipe.postprocessing?.perLabel['1'], true);
  assert.match(
    recipe.postprocessingChoice!.why,
    /the foreground step, label 1's step changed no validation case: decided by the prior from 3 training/,
  );
});

test('no independent validation case: the training-label prior; two real components are kept', async () => {
  // one-case-style split: the validation case is a training case, so it says nothing
  for (const [kind, expected] of [
    ['one', true],
    ['two', false],
  ] as const) {
    const ds = await writeDataset(root, kind);
    const { model } = await modelFolder(root, ds, [{ train: IDS, val: ['case0'] }]);
    await fakeValidatedFold(model, { case0: labelOf(kind, 0) });
    const r = await writeSingleRunRecipe({ dataset: ds, modelDir: model, config: '3d_fullres', fold: 0 });
    assert.ok(r.written);
    const recipe = (await readRecipe(model))!;
    assert.equal(recipe.postprocessingChoice?.rule, 'training-labels', kind);
    assert.equal(recipe.postprocessingChoice?.cases, IDS.length);
    assert.equal(recipe.cases, 0);
    assert.equal(recipe.postprocessing?.foreground, expected, kind);
    assert.equal(recipe.postprocessing?.perLabel['1'], expected, kind);
    // NaN in memory, null on disk: no prediction was scored
    assert.ok(Number.isNaN(recipe.postprocessing!.dice.before));
    assert.match(readFileSync(path.join(model, 'inference.json'), 'utf8'), /"before": null/);
  }
});

test('folds validated with the other checkpoint stay out of the recipe', async () => {
  const ds = await writeDataset(root, 'one');
  const { model } = await modelFolder(root, ds, [
    { train: ['case1', 'case2', 'case3'], val: ['case0'] },
    { train: ['case0', 'case2', 'case3'], val: ['case1'] },
  ]);
  await fakeValidatedFold(model, { case0: labelOf('one', 0) }, 0, 'latest');
  await fakeValidatedFold(model, { case1: labelOf('one', 1) }, 1, 'best');
  for (const [fold, checkpoint, other] of [
    [0, 'latest', 1],
    [1, 'best', 0],
  ] as const) {
    const logs: string[] = [];
    await writeSingleRunRecipe({
      dataset: ds,
      modelDir: model,
      config: '3d_fullres',
      fold,
      log: (s) => logs.push(s),
    });
    const recipe = (await readRecipe(model))!;
    assert.equal(recipe.checkpoint, checkpoint);
    assert.deepEqual(recipe.folds, [fold]);
    assert.equal(recipe.cases, 1);
    assert.match(logs.join('\n'), new RegExp(`fold\\(s\\) ${other} left out: validated with checkpoint_`));
  }
});

test("find-best's recipe is never replaced; a bad fold is refused", async () => {
  const ds = await writeDataset(root, 'one');
  const { model } = await modelFolder(root, ds, [{ train: ['case1', 'case2', 'case3'], val: ['case0'] }]);
  await fakeValidatedFold(model, { case0: labelOf('one', 0) });
  const findBests = {
    version: 1 as const,
    configurations: ['3d_fullres' as const],
    folds: [0],
    checkpoint: 'best' as const,
    postprocessing: null,
    candidates: [],
    cases: 1,
  };
  await writeRecipe(model, findBests);
  const before = readFileSync(path.join(model, 'inference.json'), 'utf8');
  const r = await writeSingleRunRecipe({ dataset: ds, modelDir: model, config: '3d_fullres', fold: 0 });
  assert.equal(r.written, false);
  assert.match((r as { reason: string }).reason, /written by find-best/);
  assert.equal(readFileSync(path.join(model, 'inference.json'), 'utf8'), before);
  await assert.rejects(
    writeSingleRunRecipe({
      dataset: ds,
      modelDir: path.join(root, 'nothing'),
      config: '3d_fullres',
      fold: 3,
    }),
    /plans\.json/,
  );
  const { model: m2 } = await modelFolder(root, ds, [{ train: ['case1'], val: ['case0'] }]);
  await assert.rejects(
    writeSingleRunRecipe({ dataset: ds, modelDir: m2, config: '3d_fullres', fold: 3 }),
    /fold 3: splits\.json has folds 0\.\.0/,
  );
});

test('a budgeted `medseg train` writes the recipe and predict applies it', async () => {
  const ds = await writeDataset(root, 'one');
  const { model, plans } = await modelFolder(root, ds, [{ train: IDS, val: ['case0'] }]);
  const c = plans.configurations['3d_fullres']!;
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 8));
  c.budget = { seconds: 60, stepSeconds: 0, steps: 2, why: 'test' };
  await writePlans(model, plans);
  assert.equal(await readRecipe(model), null);
  const stderr = process.stderr.write;
  const logs: string[] = [];
  process.stderr.write = ((s: string) => logs.push(s) > 0) as unknown as typeof process.stderr.write;
  try {
    const rc = await trainCommand.run([
      ds,
      '-m',
      model,
      '--epochs',
      '1',
      '--iters-per-epoch',
      '2',
      '--no-validation',
      '--threads',
      '1',
      '--memory-gb',
      '1',
      '--seed',
      '1',
    ]);
    assert.equal(rc, 0);
  } finally {
    process.stderr.write = stderr;
  }
  const recipe = await readRecipe(model);
  assert.ok(recipe, logs.join(''));
  assert.match(logs.join(''), /inference recipe \(no cross-validation\): 3d_fullres fold\(s\) 0/);
  // nothing validated: the last epoch's weights (src/train/checkpointChoice.ts)
  assert.equal(recipe.checkpoint, 'latest');
  assert.equal(recipe.postprocessingChoice?.rule, 'training-labels');
  assert.equal(recipe.postprocessing?.foreground, true);
  const input = path.join(ds, 'imagesTr', 'case1_0000.nii.gz');
  const withPp = path.join(root, 'pred_pp.nii.gz');
  const raw = path.join(root, 'pred_raw.nii.gz');
  const plog: string[] = [];
  await predict({ input, output: withPp, modelDir: model, threads: 1, log: (s) => plog.push(s) });
  await predict({ input, output: raw, modelDir: model, threads: 1, postprocess: false });
  assert.match(plog.join('\n'), /inference recipe: 3d_fullres, folds 0, post-processing/);
  const a = (await readImage(withPp)).data as Uint8Array;
  const b = (await readImage(raw)).data as Uint8Array;
  assert.deepEqual(a, applyPostprocessing(b, SHAPE, recipe.postprocessing!));
  assert.ok(floodLabel(a, SHAPE, 26).count <= 1, 'at most one foreground component');
  const html = readFileSync(await writeReport(model), 'utf8');
  assert.match(
    html,
    /Inference recipe without cross-validation<\/h2><p>chosen: <b>3d_fullres<\/b> \(folds 0, checkpoint_latest\)/,
  );
  assert.match(html, /prior from 4 training label map/);
});
