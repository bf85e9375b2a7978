// The two-stage cascade and find-best on a tiny synthetic spleen task, end to end: stage 2 refuses
// to train without stage 1's out-of-fold predictions, trains on them (prior channels equal to stage
// 1's prediction; crops around its components), find-best compares every configuration and pair on
// out-of-fold predictions, and predict without a configuration follows the recipe it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { trainFolds, train } from '../../src/crossval/train.js';
import { findBest } from '../../src/evaluate/findBest.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { applyPostprocessing } from '../../src/postprocess/index.js';
import { writeReport } from '../../src/report/report.js';
import type { StoredCase } from '../../src/preprocess/store.js';
import type { Split } from '../../src/train/splits.js';
import { readOutOfFoldSummary, validationDir } from '../../src/train/outOfFold.js';

const quick = { epochs: 1, itersPerEpoch: 2, memoryGb: 1, threads: 1, valPatches: 1, seed: 1 };

test('cascade (prior and crop) trains on out-of-fold stage-1 predictions; find-best and predict follow', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-cascade-'));
  const { dir: ds } = await writeSynthDataset(findTask('spleen'), root, { seed: 2, size: 'tiny', cases: 5 });
  const model = path.join(root, 'model');
  // a patch cap far below the image: the planner adds 3d_lowres and the two cascade stages
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1, maxPatchVoxels: 12 ** 3 });
  assert.ok(plans.configurations['3d_lowres'], plans.lowresReason);
  const prior = plans.configurations['3d_cascade_prior']!;
  const crop = plans.configurations['3d_cascade_crop']!;
  assert.equal(prior.network.inputChannels, 1 + 1, 'image + one foreground class');
  assert.equal(crop.network.inputChannels, 1);
  assert.deepEqual(prior.cascade, { previousStage: '3d_lowres', variant: 'prior', marginMm: 0 });
  // tiny networks (plans are data: edited as a user would)
  for (const c of Object.values(plans.configurations))
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  writeFileSync(plansFile, JSON.stringify(plans));

  await assert.rejects(
    train({ ...quick, dataset: ds, modelDir: model, config: '3d_cascade_prior', fold: 0 }),
    /out-of-fold predictions, which are missing or stale for fold\(s\) 0, 1, 2, 3, 4/,
  );
  await assert.rejects(
    findBest({ dataset: ds, modelDir: root }),
    /not a medseg model folder \(no plans.json\)/,
  );
  await trainFolds({ ...quick, dataset: ds, modelDir: model, config: '3d_lowres' });
  await assert.rejects(
    findBest({ dataset: ds, modelDir: model, configs: ['3d_fullres'] }),
    /no configuration has out-of-fold predictions for all 5 folds/,
  );
  const splits = JSON.parse(readFileSync(path.join(model, 'splits.json'), 'utf8')) as Split[];
  assert.equal(splits.length, 5);
  for (let f = 0; f < 5; f++) {
    const s = await readOutOfFoldSummary(model, '3d_lowres', f);
    assert.ok(s, `fold ${f} summary`);
    assert.deepEqual(
      s.cases.map((c) => c.id),
      splits[f]!.val,
    );
    for (const id of splits[f]!.val) {
      const lab = await readImage(path.join(validationDir(model, '3d_lowres', f), `${id}.nii.gz`));
      const img = await readImage(path.join(ds, 'imagesTr', `${id}_0000.nii.gz`));
      assert.deepEqual(lab.shape, img.shape.slice(0, 3), 'out-of-fold labels in the image geometry');
      const probs = await readImage(
        path.join(validationDir(model, '3d_lowres', f), `${id}_probabilities.nii.gz`),
      );
      assert.deepEqual(probs.shape, [...img.shape.slice(0, 3), 2]);
    }
  }

  await trainFolds({ ...quick, dataset: ds, modelDir: model, config: '3d_cascade_prior' });
  await trainFolds({ ...quick, dataset: ds, modelDir: model, config: '3d_cascade_crop' });

  // prior: the extra channel is stage 1's out-of-fold prediction (fullres spacing = the images' own
  // here up to resampling, so compare its foreground count with the label map's)
  const id0 = splits[0]!.val[0]!;
  const pre = path.join(model, 'preprocessed', '3d_cascade_prior');
  const meta = JSON.parse(readFileSync(path.join(pre, `${id0}.json`), 'utf8')) as StoredCase;
  assert.equal(meta.channels, 2);
  const raw = readFileSync(path.join(pre, `${id0}.image.f32`));
  const img = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const vox = meta.shape.reduce((a, b) => a * b, 1);
  const priorChannel = img.subarray(vox, 2 * vox);
  assert.ok(
    priorChannel.every((v) => v === 0 || v === 1),
    'one-hot prior',
  );
  const oof = await readImage(path.join(validationDir(model, '3d_lowres', 0), `${id0}.nii.gz`));
  const stage1Fg = (oof.data as Uint8Array).reduce((a, v) => a + (v ? 1 : 0), 0);
  const priorFg = priorChannel.reduce((a, v) => a + v, 0);
  const scale = vox / meta.record.croppedShape.reduce((a, b) => a * b, 1);
  if (stage1Fg > 0)
    assert.ok(Math.abs(priorFg / scale - stage1Fg) <= 0.35 * stage1Fg + 2, `${priorFg} vs ${stage1Fg}`);

  // crop: stored crops belong to their dataset case, one per merged stage-1 component
  const cropDir = path.join(model, 'preprocessed', '3d_cascade_crop');
  for (const c of readdirSync(cropDir).filter((f) => f.endsWith('.crops.json'))) {
    const index = JSON.parse(readFileSync(path.join(cropDir, c), 'utf8')) as { crops: string[] };
    for (const cid of index.crops) {
      const m = JSON.parse(readFileSync(path.join(cropDir, `${cid}.json`), 'utf8')) as StoredCase;
      assert.equal(m.parent, c.replace('.crops.json', ''));
    }
  }

  const r = await findBest({ dataset: ds, modelDir: model });
  const names = r.recipe.candidates.map((c) => c.members.join('+'));
  for (const n of ['3d_lowres', '3d_cascade_prior', '3d_cascade_crop', '3d_lowres+3d_cascade_prior'])
    assert.ok(names.includes(n), `${n} compared (${names.join(', ')})`);
  assert.equal(names.length, 3 + 3, '3 configurations, 3 pairs');
  const means = r.recipe.candidates.map((c) => c.meanDice ?? -1);
  assert.deepEqual(
    [...means].sort((a, b) => b - a),
    means,
    'best first',
  );
  assert.deepEqual(r.recipe.configurations, r.recipe.candidates[0]!.members);
  assert.deepEqual(r.recipe.folds, [0, 1, 2, 3, 4]);
  assert.ok(r.recipe.postprocessing);
  // a single configuration's score is the mean of its folds' out-of-fold Dice (up to the uint8
  // rounding of the stored probabilities)
  const lowres = r.recipe.candidates.find((c) => c.members.join('+') === '3d_lowres')!;
  const perCase: number[] = [];
  for (let f = 0; f < 5; f++)
    for (const c of (await readOutOfFoldSummary(model, '3d_lowres', f))!.cases)
      if (c.dice['1'] !== null) perCase.push(c.dice['1']!);
  const mean = perCase.reduce((a, b) => a + b, 0) / perCase.length;
  assert.ok(Math.abs(lowres.meanDice! - mean) < 0.02, `${lowres.meanDice} vs ${mean}`);

  // predict without --config follows inference.json
  const input = path.join(ds, 'imagesTr', `${id0}_0000.nii.gz`);
  const auto = path.join(root, 'auto.nii.gz');
  await predict({ input, output: auto, modelDir: model, threads: 1 });
  const explicit: Uint8Array[] = [];
  for (const member of r.recipe.configurations) {
    const out = path.join(root, `${member}.nii.gz`);
    await predict({
      input,
      output: out,
      modelDir: model,
      config: member,
      folds: [0, 1, 2, 3, 4],
      threads: 1,
      saveProbabilities: true,
    });
    explicit.push((await readImage(out)).data as Uint8Array);
  }
  const a = await readImage(auto);
  if (explicit.length === 1) {
    const shape = [a.shape[2]!, a.shape[1]!, a.shape[0]!];
    assert.deepEqual(a.data, applyPostprocessing(explicit[0]!, shape, r.recipe.postprocessing!));
  } else assert.equal(a.data.length, explicit[0]!.length);
  assert.ok(existsSync(path.join(model, 'inference.json')));
  // the report shows the cross-validation and find-best's comparison
  const html = readFileSync(await writeReport(model), 'utf8');
  assert.match(html, /Cross-validation: out-of-fold mean Dice/);
  assert.match(html, /3d_cascade_crop/);
  assert.match(
    html,
    new RegExp(`chosen: <b>${r.recipe.configurations.join(' \\+ ')}</b> \\(checkpoint_latest\\)`),
  );
  assert.match(html, /fold_0: [\d.]+ \(\d+ cases, checkpoint_latest\)/);
  // the recipe names the checkpoint its out-of-fold predictions came from: the last epoch's
  assert.equal(r.recipe.checkpoint, 'latest');
  // one fold validated again with checkpoint_best: no one recipe fits, and the error says how to fix it
  const fold2 = {
    ...quick,
    dataset: ds,
    modelDir: model,
    config: '3d_lowres',
    fold: 2,
    resume: true,
  } as const;
  await train({ ...fold2, validationCheckpoint: 'best' });
  await assert.rejects(
    findBest({ dataset: ds, modelDir: model }),
    /different checkpoints \(checkpoint_best: 3d_lowres fold 2; checkpoint_latest: 3d_lowres fold 0, .*--resume predicts/,
  );
  // --resume with the default predicts that fold again with checkpoint_latest: find-best agrees again
  await train(fold2);
  assert.equal((await readOutOfFoldSummary(model, '3d_lowres', 2))!.checkpoint, 'latest');
  assert.equal((await findBest({ dataset: ds, modelDir: model })).recipe.checkpoint, 'latest');
});
