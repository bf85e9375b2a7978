// finetune --patch target: the target's own planned patch fitted to the source's network (each axis a
// multiple of the network's total stride there, shrunk one stride at a time along the axis largest
// relative to the median image while a batch would need more memory than the target's plan allows),
// the run that trains on it, and the settings a resumed run must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { UNetSpec } from '../../src/nn/index.js';
import {
  planDataset,
  trainingBytesPerSample,
  type Configuration,
  type Plans,
} from '../../src/plan/planner.js';
import { readPlans } from '../../src/plan/schema.js';
import type { Fingerprint } from '../../src/plan/fingerprint.js';
import { finetune, type TransferRecord } from '../../src/transfer/finetune.js';
import { targetPatchOnNetwork, transferPlans } from '../../src/transfer/plans.js';
import { command as finetuneCommand } from '../../src/cli/finetune.js';
import { UsageError } from '../../src/cli/command.js';
import { ONE_STEP, synthDataset, tinyModel, tmp } from './fixtures.js';

/** A network whose total strides are 4, 8, 8 (z, y, x). */
const network: UNetSpec = {
  architecture: 'plain',
  dims: 3,
  inputChannels: 1,
  numClasses: 2,
  features: [8, 16, 32, 32],
  kernelSizes: [
    [1, 3, 3],
    [3, 3, 3],
    [3, 3, 3],
    [3, 3, 3],
  ],
  strides: [
    [1, 1, 1],
    [1, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
  ],
  encoderBlocks: [2, 2, 2, 2],
  decoderConvs: [2, 2, 2],
  deepSupervision: true,
};
const bytes = (patch: number[], batch: number) =>
  trainingBytesPerSample(patch, network.features, network.strides, 1) * batch;

async function plannedConfig(): Promise<Configuration> {
  const { model } = await tinyModel('hippocampus');
  return (JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans).configurations[
    '3d_fullres'
  ]!;
}

test("the target's patch on the source's network: rounded down to its strides, shrunk to the memory", async () => {
  const own = await plannedConfig();
  const roomy = 64;
  // each axis down to a multiple of its total stride (4, 8, 8); never below one stride
  assert.deepEqual(targetPatchOnNetwork({ ...own, patch: [42, 57, 71] }, network, roomy), [40, 56, 64]);
  assert.deepEqual(targetPatchOnNetwork({ ...own, patch: [3, 7, 130] }, network, roomy), [4, 8, 128]);
  // memory for exactly one stride less along the axis largest relative to the median image (x: 64/32)
  const c = { ...own, patch: [64, 64, 64], medianShape: [64, 128, 32], batchSize: 2 };
  const justFits = bytes([64, 64, 56], 2) / 2 ** 30;
  assert.ok(bytes([64, 64, 64], 2) / 2 ** 30 > justFits);
  assert.deepEqual(targetPatchOnNetwork(c, network, justFits), [64, 64, 56]);
  // x is still the largest relative axis at 56/32, then 48/32 ...: twice the shrink for less memory
  assert.deepEqual(targetPatchOnNetwork(c, network, bytes([64, 64, 48], 2) / 2 ** 30), [64, 64, 48]);
  // much less memory: whatever remains fits and still divides by the strides
  const tight = targetPatchOnNetwork(c, network, bytes([16, 40, 8], 2) / 2 ** 30);
  assert.ok(bytes(tight, 2) <= bytes([16, 40, 8], 2));
  assert.ok(tight.every((p, d) => p % [4, 8, 8][d]! === 0));
  // no memory at all: one stride per axis, the smallest patch this network takes
  assert.deepEqual(targetPatchOnNetwork(c, network, 1e-9), [4, 8, 8]);
});

test("finetune --patch target trains on the target's own patch; a resumed run keeps it", async () => {
  const { model } = await tinyModel('hippocampus');
  const srcPlans = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
  const source = srcPlans.configurations['3d_fullres']!;
  const ds = await synthDataset('prostate');
  const out = path.join(tmp('ft-patch'), 'prostate');
  const { record } = await finetune({
    dataset: ds,
    modelDir: out,
    from: model,
    patchFrom: 'target',
    ...ONE_STEP,
  });
  const plans = await readPlans(path.join(out, 'plans.json')); // the schema checks strides against the patch
  const fp = JSON.parse(readFileSync(path.join(out, 'fingerprint.json'), 'utf8')) as Fingerprint;
  const planned = planDataset(fp, { memoryGb: ONE_STEP.memoryGb });
  const own = planned.configurations['3d_fullres']!;
  const c = plans.configurations['3d_fullres']!;
  // the source's network, the target's patch and batch (fitted: the same function, and by hand)
  assert.deepEqual(c.network.features, source.network.features);
  assert.deepEqual(c.network.strides, source.network.strides);
  assert.deepEqual(c.patch, targetPatchOnNetwork(own, c.network, planned.memoryGb));
  const total = c.patch.map((_, d) => source.network.strides.reduce((p, s) => p * s[d]!, 1));
  c.patch.forEach((p, d) => assert.ok(p % total[d]! === 0 && p <= Math.max(own.patch[d]!, total[d]!)));
  assert.notDeepEqual(c.patch, source.patch);
  assert.equal(c.batchSize, own.batchSize);
  // the default is unchanged: the source's patch
  const viaSource = transferPlans(source, 'src', planned, '3d_fullres');
  assert.deepEqual(viaSource.configurations['3d_fullres']!.patch, source.patch);
  // recorded, and a resumed run asked for the other patch is refused in one line
  assert.equal(record.patchFrom, 'target');
  const rec = JSON.parse(readFileSync(path.join(out, 'transfer.json'), 'utf8')) as TransferRecord;
  assert.equal(rec.patchFrom, 'target');
  await assert.rejects(
    finetune({ dataset: ds, modelDir: out, from: model, patchFrom: 'source', resume: true, ...ONE_STEP }),
    /was fine-tuned with the target's patch, not the source's: choose another model folder/,
  );
  // the CLI's --patch takes source or target only
  await assert.rejects(
    finetuneCommand.run([ds, '--from', model, '--patch', 'largest', '-m', path.join(tmp('ft-bad'), 'm')]),
    (e: Error) =>
      e instanceof UsageError && /--patch must be source or target, got 'largest'/.test(e.message),
  );
});
