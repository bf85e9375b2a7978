// Mirroring's default per device: predict() without `mirror` on the CPU is exactly the unmirrored
// prediction (1 network pass per window), and `mirror: true` really mirrors (different probabilities).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { train } from '../../src/crossval/train.js';
import { predict } from '../../src/infer/predict.js';
import { mirrorByDefault } from '../../src/infer/mirror.js';
import { readImage } from '../../src/io/image.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-mirror-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('mirroring is off by default on the CPU and on on a GPU', async () => {
  assert.equal(mirrorByDefault('cpu'), false);
  assert.equal(mirrorByDefault('cuda'), true);
  assert.equal(mirrorByDefault('cuda:1'), true);
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), path.join(root, 'data'), {
    seed: 3,
    size: 'tiny',
    cases: 3,
  });
  const model = path.join(root, 'model');
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
  for (const c of Object.values(plans.configurations))
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 8));
  writeFileSync(plansFile, JSON.stringify(plans));
  await train({
    dataset: ds,
    modelDir: model,
    config: '3d_fullres',
    fold: 0,
    epochs: 1,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    seed: 1,
    validate: false,
  });
  const input = path.join(ds, 'imagesTr', 'hippocampus_000_0000.nii.gz');
  const run = async (name: string, mirror?: boolean): Promise<Float32Array> => {
    const output = path.join(root, `${name}.nii.gz`);
    await predict({
      input,
      output,
      modelDir: model,
      config: '3d_fullres',
      mirror,
      saveProbabilities: true,
      threads: 1,
    });
    return (await readImage(path.join(root, `${name}_probabilities.nii.gz`))).data as Float32Array;
  };
  const byDefault = await run('default');
  const off = await run('off', false);
  const on = await run('on', true);
  assert.deepEqual(byDefault, off, 'the CPU default is no mirroring');
  let diff = 0;
  for (let i = 0; i < on.length; i++) diff = Math.max(diff, Math.abs(on[i]! - off[i]!));
  assert.ok(diff > 1e-6, `mirroring changes the probabilities of an asymmetric network (max diff ${diff})`);
});
