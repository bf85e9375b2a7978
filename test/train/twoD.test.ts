// The 2d configuration end to end on a tiny task: slices as the training samples, the network over
// every slice at inference, out-of-fold and predicted label maps in the image's own geometry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { train } from '../../src/crossval/train.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { readOutOfFoldSummary, validationDir } from '../../src/train/outOfFold.js';
import type { Split } from '../../src/train/splits.js';

test('2d: trains on slices, predicts every slice, label maps in the image geometry', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-2d-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 4,
    size: 'tiny',
    cases: 4,
  });
  const model = path.join(root, 'model');
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
  const c = plans.configurations['2d']!;
  assert.equal(c.network.dims, 2);
  assert.equal(c.patch.length, 2);
  assert.ok(c.batchSize >= 2);
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  writeFileSync(plansFile, JSON.stringify(plans));
  const r = await train({
    dataset: ds,
    modelDir: model,
    config: '2d',
    fold: 0,
    epochs: 2,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
  });
  assert.equal(r.history.length, 2);
  assert.ok(r.history.every((h) => Number.isFinite(h.train_loss) && h.train_loss > 0));
  const splits = JSON.parse(readFileSync(path.join(model, 'splits.json'), 'utf8')) as Split[];
  const summary = (await readOutOfFoldSummary(model, '2d', 0))!;
  assert.deepEqual(
    summary.cases.map((x) => x.id),
    splits[0]!.val,
  );
  const id = splits[0]!.val[0]!;
  const img = await readImage(path.join(ds, 'imagesTr', `${id}_0000.nii.gz`));
  const oof = await readImage(path.join(validationDir(model, '2d', 0), `${id}.nii.gz`));
  assert.deepEqual(oof.shape, img.shape.slice(0, 3));
  const out = path.join(root, 'pred.nii.gz');
  await predict({
    input: path.join(ds, 'imagesTr', `${id}_0000.nii.gz`),
    output: out,
    modelDir: model,
    config: '2d',
    threads: 1,
  });
  const pred = await readImage(out);
  assert.deepEqual(pred.shape, img.shape.slice(0, 3));
  assert.deepEqual(pred.affine, img.affine);
  // the same checkpoint and code path: predict's label map is the out-of-fold one
  assert.deepEqual(pred.data, oof.data);
  const values = new Set(pred.data as Uint8Array);
  for (const v of values) assert.ok(plans.labelValues.includes(Number(v)), `label value ${v}`);
});
