// From scratch vs fine-tuned, on a synthetic task pair at an equal step budget.
//   node bench/finetune.mjs [source = liver] [target = spleen] [N = 2] [seeds = 1,2,3] [pretrainSteps = 400] [steps = 120]
// Source: SOURCE (tiny, 12 cases, its seed 1) trained for pretrainSteps steps (fold 0 of its own split).
// Target: TARGET (tiny, 10 cases, dataset seed 2); the first N cases (sorted ids) train, the other
// 10 − N are the evaluation cases (one split written to splits.json, the same for every row).
// Each row trains `steps` steps (epochs of 10 iterations) with the same seed, then predicts the
// evaluation cases; the number is their mean Dice (out-of-fold summary of the fold). Networks are the
// planner's with features capped at 8·2^i ≤ 64 (CPU budget); the fine-tuned one is the source's.
// Rows: scratch (SGD lr 1e-2, nnU-Net's), fine-tuned with the defaults (lr 1e-3, warm-up), fine-tuned
// at lr 1e-2, fine-tuned with the encoder frozen for the first half.
// An equal step budget rather than equal seconds: the machine is shared, so wall time is noisy; the
// per-row seconds are printed too.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../dist/src/synth/index.js';
import { plan } from '../dist/src/plan/run.js';
import { trainModel } from '../dist/src/train/index.js';
import { train } from '../dist/src/crossval/train.js';
import { finetune } from '../dist/src/transfer/finetune.js';

const [
  source = 'liver',
  target = 'spleen',
  nArg = '2',
  seedsArg = '1,2,3',
  preArg = '400',
  stepsArg = '120',
] = process.argv.slice(2);
const N = Number(nArg);
const seeds = seedsArg.split(',').map(Number);
const ITERS = 10;
const preEpochs = Math.ceil(Number(preArg) / ITERS);
const epochs = Math.ceil(Number(stepsArg) / ITERS);
const threads = 2;
const work = path.resolve('bench/out/finetune');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const quiet = () => {};

async function narrowPlans(ds, model) {
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 2 });
  for (const c of Object.values(plans.configurations))
    c.network.features = c.network.features.map((_, i) => Math.min(8 * 2 ** i, 64));
  writeFileSync(plansFile, JSON.stringify(plans, null, 2));
}

const t0 = performance.now();
const src = await writeSynthDataset(findTask(source), path.join(work, 'data'), {
  seed: 1,
  size: 'tiny',
  cases: 12,
});
const srcModel = path.join(work, `${source}_source`);
await narrowPlans(src.dir, srcModel);
await trainModel({
  dataset: src.dir,
  modelDir: srcModel,
  epochs: preEpochs,
  itersPerEpoch: ITERS,
  seed: 1,
  threads,
  valPatches: 1,
  log: quiet,
});
const preSeconds = (performance.now() - t0) / 1000;
console.error(`pre-trained ${source}: ${preEpochs * ITERS} steps in ${preSeconds.toFixed(0)} s`);

const tgt = await writeSynthDataset(findTask(target), path.join(work, 'data'), {
  seed: 2,
  size: 'tiny',
  cases: 10,
});
const ids = readdirSync(path.join(tgt.dir, 'labelsTr'))
  .map((f) => f.replace(/\.nii\.gz$/, ''))
  .sort();
const split = [{ train: ids.slice(0, N), val: ids.slice(N) }];

const rows = {
  scratch: async (dir, seed) => {
    await narrowPlans(tgt.dir, dir);
    writeFileSync(path.join(dir, 'splits.json'), JSON.stringify(split));
    return train({
      dataset: tgt.dir,
      modelDir: dir,
      epochs,
      itersPerEpoch: ITERS,
      seed,
      threads,
      valPatches: 1,
      log: quiet,
    });
  },
  'fine-tuned (defaults: lr 1e-3, warm-up)': async (dir, seed) => tuned(dir, seed, {}),
  'fine-tuned, lr 1e-2': async (dir, seed) => tuned(dir, seed, { initialLr: 1e-2 }),
  'fine-tuned, encoder frozen for half the epochs': async (dir, seed) =>
    tuned(dir, seed, { freeze: 'encoder', unfreezeAfter: Math.floor(epochs / 2) }),
};
async function tuned(dir, seed, extra) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'splits.json'), JSON.stringify(split));
  const { results } = await finetune({
    dataset: tgt.dir,
    modelDir: dir,
    from: srcModel,
    epochs,
    itersPerEpoch: ITERS,
    seed,
    threads,
    valPatches: 1,
    log: quiet,
    ...extra,
  });
  return results[0];
}

const out = {};
for (const seed of seeds) {
  for (const [name, run] of Object.entries(rows)) {
    const dir = path.join(work, `${name.split(/[ ,(]/)[0]}_${Object.keys(rows).indexOf(name)}_seed${seed}`);
    const t = performance.now();
    const r = await run(dir, seed);
    const summary = JSON.parse(readFileSync(path.join(r.foldDir, 'validation', 'summary.json'), 'utf8'));
    (out[name] ??= []).push({ seed, dice: summary.meanDice, seconds: (performance.now() - t) / 1000 });
    console.error(
      `${name} seed ${seed}: Dice ${summary.meanDice?.toFixed(3)} (${((performance.now() - t) / 1000).toFixed(0)} s)`,
    );
  }
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
console.log(
  `| ${source} → ${target}, N = ${N}, ${epochs * ITERS} steps | mean Dice (${10 - N} cases) ± sd over seeds ${seeds.join(',')} | per seed | s/run |`,
);
console.log('|---|---|---|---|');
for (const [name, rs] of Object.entries(out)) {
  const d = rs.map((r) => r.dice);
  console.log(
    `| ${name} | ${mean(d).toFixed(3)} ± ${sd(d).toFixed(3)} | ${d.map((x) => x.toFixed(3)).join(', ')} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} |`,
  );
}
console.log(
  `pre-training: ${source}, 12 cases, ${preEpochs * ITERS} steps, ${preSeconds.toFixed(0)} s (not counted in the rows)`,
);
