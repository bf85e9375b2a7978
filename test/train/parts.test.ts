// The trainer's parts as other trainers use them: the hooks (initialize, beforeEpoch, onEpoch stop),
// the warm-up schedule, budget fitting, and checkpoints read from nn/ without the trainer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { trainModel, fitEpochs, refitEpochs, type EpochLog } from '../../src/train/index.js';
import { UNet, loadCheckpoint } from '../../src/nn/index.js';
import { warmupPolyLR, polyLR } from '../../src/optim/index.js';

test('warm-up rises linearly to lr0, then the poly decay runs over the remaining steps', () => {
  assert.equal(warmupPolyLR(0.01, 0, 100, 10), 0.001);
  assert.ok(Math.abs(warmupPolyLR(0.01, 9, 100, 10) - 0.01) < 1e-15);
  assert.equal(warmupPolyLR(0.01, 10, 100, 10), polyLR(0.01, 0, 90));
  assert.equal(warmupPolyLR(0.01, 55, 100, 10), polyLR(0.01, 45, 90));
  assert.equal(warmupPolyLR(0.01, 100, 100, 10), 0);
  assert.equal(warmupPolyLR(0.01, 37, 100, 0), polyLR(0.01, 37, 100));
});

test('budget fitting: steps that fit, ≥ 10 epochs, refit from the median epoch time', () => {
  // 100 s at 0.5 s/step: 181 steps (10 % kept), 18 per epoch → 10 epochs
  assert.deepEqual(fitEpochs(100, 0.5, 250), { itersPerEpoch: 18, totalEpochs: 10 });
  assert.deepEqual(fitEpochs(1e6, 1, 250), { itersPerEpoch: 250, totalEpochs: 3636 });
  // 3 epochs done at [10, 30, 12] s (median 12), 60 s left: 60 / 12.6 → 4 more
  assert.equal(refitEpochs(3, [10, 30, 12], 60), 7);
  assert.equal(refitEpochs(3, [10, 30, 12], -5), 3);
});

test('hooks: initialize runs on the new network, beforeEpoch every epoch, onEpoch can stop the run', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-parts-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 2,
    size: 'tiny',
    cases: 4,
  });
  const model = path.join(root, 'model');
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
  const c = plans.configurations['3d_fullres']!;
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  writeFileSync(plansFile, JSON.stringify(plans));
  const seen: number[] = [];
  const logs: EpochLog[] = [];
  let initialized = 0;
  const r = await trainModel({
    dataset: ds,
    modelDir: model,
    epochs: 5,
    itersPerEpoch: 1,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    warmupSteps: 3,
    initialize: (net: UNet) => {
      initialized++;
      assert.ok(net.numParameters() > 0);
    },
    beforeEpoch: (epoch) => seen.push(epoch),
    onEpoch: (e) => {
      logs.push(e);
      return e.epoch === 2 ? 'stop' : undefined;
    },
  });
  assert.equal(initialized, 1);
  assert.deepEqual(seen, [0, 1]);
  assert.equal(r.stoppedEarly, true);
  assert.equal(r.history.length, 2);
  assert.deepEqual(
    logs.map((l) => l.epoch),
    [1, 2],
  );
  // warm-up over 3 steps: step 0 at lr0/3, step 1 at 2·lr0/3 (one step per epoch here)
  assert.ok(Math.abs(logs[0]!.lr - 0.01 / 3) < 1e-12, `lr of epoch 1: ${logs[0]!.lr}`);
  assert.ok(Math.abs(logs[1]!.lr - (2 * 0.01) / 3) < 1e-12, `lr of epoch 2: ${logs[1]!.lr}`);
  const lines = readFileSync(path.join(r.foldDir, 'log.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  // the checkpoint loads through nn/ alone, and the state says where the run stopped
  const latest = path.join(r.foldDir, 'checkpoint_latest.safetensors');
  assert.ok(existsSync(latest));
  const net = new UNet({ ...c.network, deepSupervision: false });
  const state = await loadCheckpoint<{ epoch: number; totalEpochs: number }>(latest, net);
  assert.equal(state.epoch, 2);
  assert.equal(state.totalEpochs, 5);
  net.dispose();
});
