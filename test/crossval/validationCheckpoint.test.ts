// Which checkpoint predicts a fold's validation cases: 'latest' (the last epoch) by default, as
// nnU-Net's final checkpoint (checkpoint_best is chosen by those very cases), 'best' when asked; a
// summary made with one checkpoint is never returned for the other, and --resume on a finished fold
// predicts again with the checkpoint asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { train } from '../../src/crossval/train.js';
import { predictValidation } from '../../src/crossval/validate.js';
import { prepare } from '../../src/train/prepare.js';
import { readOutOfFoldSummary } from '../../src/train/outOfFold.js';
import { synthDataset, tinyPlans, tmp } from '../transfer/fixtures.js';

test('validation predicts from the last epoch by default; a cached summary of another checkpoint is redone', async () => {
  const ds = await synthDataset('hippocampus');
  const model = path.join(tmp('valckpt'), 'm');
  await tinyPlans(ds, model);
  const run = { dataset: ds, modelDir: model, config: '3d_fullres', epochs: 3, itersPerEpoch: 2 } as const;
  const opts = { ...run, memoryGb: 1, threads: 1, valPatches: 1, seed: 1 };
  await train(opts);
  const latest = (await readOutOfFoldSummary(model, '3d_fullres', 0))!;
  assert.equal(latest.checkpoint, 'latest');
  assert.ok(latest.cases.length > 0);

  const prepared = await prepare(ds, model, '3d_fullres', { memoryGb: 1 });
  const splits = JSON.parse(readFileSync(path.join(model, 'splits.json'), 'utf8'));
  const common = {
    dataset: prepared.dataset,
    modelDir: model,
    plans: prepared.plans,
    config: '3d_fullres',
    fold: 0,
    splits,
  } as const;
  // the same checkpoint again: the summary on disk, not a new prediction
  assert.deepEqual(await predictValidation({ ...common, checkpoint: 'latest' }), latest);
  // another checkpoint: predicted again and recorded as such
  const best = await predictValidation({ ...common, checkpoint: 'best' });
  assert.equal(best.checkpoint, 'best');
  assert.equal((await readOutOfFoldSummary(model, '3d_fullres', 0))!.checkpoint, 'best');
  assert.deepEqual(
    best.cases.map((c) => c.id),
    latest.cases.map((c) => c.id),
  );
  // resuming the finished run with the default predicts the cases again from the last epoch
  await train({ ...opts, resume: true });
  assert.deepEqual(await readOutOfFoldSummary(model, '3d_fullres', 0), latest);
});
