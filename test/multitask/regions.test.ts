// A dataset that declares nested regions (the synthetic brain tumour) still joins multi-task
// training: the shared heads are softmax over classes, so its regions train as their label values,
// and its task folder's plans say so (no regions, one output per label value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { trainMulti } from '../../src/multitask/train.js';
import { readPlans } from '../../src/plan/schema.js';

test('train-multi takes a region dataset as its label values (softmax heads), with a log line saying so', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-multi-regions-'));
  const bt = await writeSynthDataset(findTask('brain-tumour'), root, { seed: 1, size: 'tiny', cases: 4 });
  const hip = await writeSynthDataset(findTask('hippocampus'), root, { seed: 2, size: 'tiny', cases: 4 });
  const model = path.join(root, 'multi');
  const lines: string[] = [];
  await trainMulti({
    datasets: [bt.dir, hip.dir],
    modelDir: model,
    epochs: 1,
    itersPerEpoch: 1,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    body: (s: { features: number[] }) =>
      ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }) as never,
    log: (s) => lines.push(s),
  });
  const folder = readdirSync(path.join(model, 'tasks')).find((d) => d.includes('BrainTumour'))!;
  const plans = await readPlans(path.join(model, 'tasks', folder, 'plans.json'));
  assert.equal(plans.regions, undefined);
  assert.deepEqual(plans.labelValues, [0, 1, 2, 3]);
  assert.equal(plans.configurations['3d_fullres']!.network.numClasses, 4);
  assert.ok(
    lines.some((l) => /regions train as the label values 0, 1, 2, 3/.test(l)),
    lines.join('\n'),
  );
});
