// Training on a device: an explicit device 'cpu' is the default path (identical weights and
// predictions), fp16 is refused off a GPU with one clear error, and on MEDSEG_TEST_DEVICE=cuda a run
// trains (float32 and float16 with loss scaling) and resumes onto the GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { trainModel, type TrainOptions } from '../../src/train/index.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { predict } from '../../src/infer/predict.js';
import { testDevice } from '../helpers/device.js';

const device = testDevice();

async function setup(): Promise<{ ds: string; root: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-traindev-'));
  const { dir } = await writeSynthDataset(findTask('hippocampus'), root, { seed: 4, size: 'tiny', cases: 4 });
  return { ds: dir, root };
}

const base = (ds: string, modelDir: string): TrainOptions => ({
  dataset: ds,
  modelDir,
  epochs: 2,
  itersPerEpoch: 2,
  memoryGb: 1,
  seed: 7,
  threads: 1,
  valPatches: 1,
});

async function weights(modelDir: string) {
  const { tensors, metadata } = await loadSafetensors(
    path.join(modelDir, '3d_fullres', 'fold_0', 'checkpoint_latest.safetensors'),
  );
  return { tensors, state: JSON.parse(metadata.state!) as Record<string, unknown> };
}

test("training with device 'cpu' given explicitly equals the default path", async () => {
  const { ds, root } = await setup();
  const a = path.join(root, 'default');
  const b = path.join(root, 'cpu');
  const ra = await trainModel(base(ds, a));
  const rb = await trainModel({ ...base(ds, b), device: 'cpu' });
  assert.deepEqual(
    rb.history.map((h) => h.train_loss),
    ra.history.map((h) => h.train_loss),
  );
  const wa = await weights(a);
  const wb = await weights(b);
  let compared = 0;
  for (const [k, t] of wa.tensors) {
    if (k.startsWith('rng.')) continue;
    assert.deepEqual(wb.tensors.get(k)!.toArray(), t.toArray(), `${k} differs`);
    compared++;
  }
  assert.ok(compared > 20);
  assert.equal(wa.state.gradScaler, undefined, 'no loss scale without fp16');
  // prediction: device 'cpu' given explicitly writes the same label maps as the default
  const images = path.join(ds, 'imagesTr');
  const outs = [undefined, 'cpu'].map((d) => path.join(root, `pred-${d ?? 'default'}`));
  for (const [i, d] of [undefined, 'cpu'].entries())
    await predict({
      input: images,
      output: outs[i]!,
      modelDir: a,
      checkpoint: 'latest',
      device: d,
      threads: 1,
    });
  const files = readdirSync(outs[0]!).filter((f) => f.endsWith('.nii.gz'));
  assert.equal(files.length, 4);
  for (const f of files)
    assert.ok(
      readFileSync(path.join(outs[0]!, f)).equals(readFileSync(path.join(outs[1]!, f))),
      `${f} differs`,
    );
  // fp16 needs a GPU: one clear error before any work
  await assert.rejects(
    trainModel({ ...base(ds, path.join(root, 'fp16')), fp16: true, device: 'cpu' }),
    /fp16 training needs a CUDA device \(the run's device is cpu\)/,
  );
});

test(
  `training on ${device} (float32 and float16) resumes onto the device`,
  { skip: device === 'cpu' ? 'MEDSEG_TEST_DEVICE is cpu (the CPU path is the test above)' : false },
  async () => {
    const { ds, root } = await setup();
    for (const fp16 of [false, true]) {
      const dir = path.join(root, fp16 ? 'fp16' : 'fp32');
      const first = await trainModel({ ...base(ds, dir), epochs: 1, device, fp16 });
      assert.ok(Number.isFinite(first.history[0]!.train_loss));
      const resumed = await trainModel({ ...base(ds, dir), epochs: 2, device, fp16, resume: true });
      assert.equal(resumed.history.length, 2);
      const w = await weights(dir);
      assert.equal(w.state.epoch, 2);
      if (fp16) {
        const gs = w.state.gradScaler as { scale: number; goodSteps: number };
        assert.ok(gs.scale > 0 && Number.isInteger(gs.goodSteps), 'the loss scale is checkpointed');
      }
      for (const [k, t] of w.tensors) {
        if (t.dtype !== 'float32') continue;
        assert.ok((t.toArray() as Float32Array).every(Number.isFinite), `${k} is finite`);
      }
    }
  },
);
