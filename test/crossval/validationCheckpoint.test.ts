// Which checkpoint predicts a fold's validation cases: 'best' by default, 'latest' when asked (the
// benchmarks score those very cases, so they must not choose the weights), and a summary made with
// one checkpoint is never returned for the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { train } from '../../src/crossval/train.js';
import { predictValidation } from '../../src/crossval/validate.js';
import { prepare } from '../../src/train/prepare.js';
import { readOutOfFoldSummary } from '../../src/train/outOfFold.js';
import { synthDataset, tinyPlans, tmp } from '../transfer/fixtures.js';

test("validationCheckpoint 'latest' predicts from the last epoch; a cached summary of another checkpoint is redone", async () => {
  const ds = await synthDataset('hippocampus');
  const model = path.join(tmp('valckpt'), 'm');
  await tinyPlans(ds, model);
  const run = { dataset: ds, modelDir: model, config: '3d_fullres', epochs: 3, itersPerEpoch: 2 } as const;
  await train({ ...run, memoryGb: 1, threads: 1, valPatches: 1, seed: 1, validationCheckpoint: 'latest' });
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
});
