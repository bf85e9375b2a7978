// train and the budget: `train --budget` re-plans a configuration that has no budget section (said
// in the log, plans.json rewritten), keeps the plan when a fold already trained with it, and a
// plan's training section is the default of every option the caller left unset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { calibrationFile, calibrationKey, defaultBf16, keyDigest, type Plans } from '../../src/plan/index.js';
import { prepare } from '../../src/train/prepare.js';
import { optionsFromPlan, replanForBudget } from '../../src/train/planDefaults.js';
import { trainModel } from '../../src/train/index.js';
import { polyLR } from '../../src/optim/index.js';

/** A calibration for this machine's exact key, as if measured: 20 GFLOP/s, no overhead. */
function fakeCalibration(dir: string): void {
  const key = calibrationKey(defaultBf16() ? 'bf16' : 'fp32', os.availableParallelism());
  const points = [
    { name: 'a', gflop: 2, seconds: 0.1 },
    { name: 'b', gflop: 20, seconds: 1 },
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    calibrationFile(key, dir),
    JSON.stringify({ key, digest: keyDigest(key), measuredAt: 'test', points, model: {} }),
  );
}

async function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-budget-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 3,
    size: 'tiny',
    cases: 4,
  });
  const model = path.join(root, 'model');
  await plan(ds, model, { memoryGb: 1 });
  process.env.MEDSEG_CACHE = path.join(root, 'cache');
  fakeCalibration(process.env.MEDSEG_CACHE);
  return { root, ds, model };
}

test('train --budget on a plan without a budget section re-plans it, says so, and uses its training section', async () => {
  const { ds, model } = await setup();
  const logs: string[] = [];
  const o = { dataset: ds, modelDir: model, budgetSeconds: 600, log: (s: string) => logs.push(s) };
  const p = await prepare(ds, model, '3d_fullres', { memoryGb: 1 });
  assert.equal(p.config.budget, undefined);
  await replanForBudget(o, p);
  assert.ok(
    logs.some((l) => /no budget section for 3d_fullres: fitting it to the 600 s budget/.test(l)),
    logs.join('\n'),
  );
  const written = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
  const c = written.configurations['3d_fullres']!;
  assert.ok(c.budget && c.training);
  assert.equal(c.budget.seconds, 600);
  assert.equal(c.budget.steps, c.training.epochs * c.training.itersPerEpoch);
  assert.match(c.budget.why, /steps/);
  // the plan's training section fills what the caller left unset; the caller's options win
  const eff = optionsFromPlan(o, p);
  assert.equal(eff.optimizer, c.training.optimizer);
  assert.equal(eff.initialLr, c.training.initialLr);
  assert.equal(eff.warmupSteps, c.training.warmupSteps);
  assert.equal(eff.bf16, c.training.bf16);
  assert.equal(eff.epochs, undefined); // --budget: epochs fitted to the wall clock from the plan's
  assert.equal(eff.itersPerEpoch, c.training.itersPerEpoch);
  const mine = optionsFromPlan(
    { ...o, budgetSeconds: undefined, optimizer: 'sgd', bf16: false, epochs: 3 },
    p,
  );
  assert.equal(mine.optimizer, 'sgd');
  assert.equal(mine.initialLr, undefined); // the plan's rate belongs to its optimiser
  assert.equal(mine.bf16, false);
  assert.equal(mine.epochs, 3);
  // a second --budget run finds the budget section and leaves the plan alone
  logs.length = 0;
  await replanForBudget(o, p);
  assert.equal(logs.length, 0);
});

test('train --budget keeps the plan when a fold was already trained with it', async () => {
  const { ds, model } = await setup();
  mkdirSync(path.join(model, '3d_fullres', 'fold_1'), { recursive: true });
  writeFileSync(path.join(model, '3d_fullres', 'fold_1', 'log.jsonl'), '{}\n');
  const logs: string[] = [];
  const p = await prepare(ds, model, '3d_fullres', { memoryGb: 1 });
  await replanForBudget(
    { dataset: ds, modelDir: model, fold: 0, budgetSeconds: 600, log: (s) => logs.push(s) },
    p,
  );
  assert.ok(
    logs.some((l) => /kept as it is \(a fold of 3d_fullres was already trained/.test(l)),
    logs.join('\n'),
  );
  const c = (JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans).configurations[
    '3d_fullres'
  ]!;
  assert.equal(c.budget, undefined);
});

test('a run follows the training section of plans.json, and a broken section is named', async () => {
  const { ds, model } = await setup();
  const file = path.join(model, 'plans.json');
  const plans = JSON.parse(readFileSync(file, 'utf8')) as Plans;
  const c = plans.configurations['3d_fullres']!;
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  c.training = {
    optimizer: 'adamw',
    initialLr: 2e-3,
    warmupSteps: 0,
    bf16: false,
    epochs: 2,
    itersPerEpoch: 2,
  };
  writeFileSync(file, JSON.stringify(plans));
  const r = await trainModel({ dataset: ds, modelDir: model, valPatches: 1 });
  assert.equal(r.history.length, 2);
  // the last step of epoch 1 is global step 1 of 4, at AdamW's planned rate
  assert.ok(Math.abs(r.history[0]!.lr - polyLR(2e-3, 1, 4)) < 1e-12, `${r.history[0]!.lr}`);
  c.training = { ...c.training, optimizer: 'adam' as never };
  writeFileSync(file, JSON.stringify(plans));
  await assert.rejects(
    trainModel({ dataset: ds, modelDir: model, fold: 1, valPatches: 1 }),
    /plans\.json: configurations\.3d_fullres\.training\.optimizer/,
  );
});
