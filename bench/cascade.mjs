// 3d_fullres vs the two cascade variants (and 3d_lowres, find-best's choice) on synthetic tasks where
// the target is small in a large field of view, and on the shared MSD spleen crop (real CT, 1 case:
// segmented by the synthetic-spleen models, so it measures transfer, not cross-validation).
//   node bench/cascade.mjs [--tasks spleen,pancreas] [--size small] [--cases 5] [--budget S]
//                          [--max-patch 32768] [--threads 2] [--epochs 10 --iters 20]   (after npm run build)
// Every configuration is trained on all folds (5-fold CV) for --epochs × --iters steps per fold (the
// same work for every configuration, whatever else the machine does; --budget S instead fits the
// steps to S wall-clock seconds per fold), with the
// demo's CPU settings (features 16·2^i capped at 128, AdamW 3e-3). Per configuration: out-of-fold
// Dice, false-positive voxels (predicted foreground outside the reference) and seconds to predict
// one case (fold 0 alone; a cascade includes its stage 1). One JSON line per task, and a markdown
// table, go to stdout; models under bench/out/cascade/<task>.
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSynthDataset, findTask } from '../dist/src/synth/index.js';
import { plan } from '../dist/src/plan/run.js';
import { trainFolds } from '../dist/src/crossval/train.js';
import { findBest } from '../dist/src/evaluate/findBest.js';
import { predict } from '../dist/src/infer/predict.js';
import { readImage } from '../dist/src/io/image.js';
import { readOutOfFoldSummary, validationDir } from '../dist/src/train/outOfFold.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: 'spleen,pancreas' },
    size: { type: 'string', default: 'small' },
    cases: { type: 'string', default: '5' },
    budget: { type: 'string' },
    epochs: { type: 'string', default: '10' },
    iters: { type: 'string', default: '20' },
    'max-patch': { type: 'string', default: '32768' },
    threads: { type: 'string', default: '2' },
    real: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
  },
});
const configs = ['3d_fullres', '3d_lowres', '3d_cascade_prior', '3d_cascade_crop'];
const threads = Number(values.threads);

function counts(pred, ref) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0;
    const r = ref[i] !== 0;
    if (p && r) tp++;
    else if (p) fp++;
    else if (r) fn++;
  }
  return { tp, fp, fn, dice: tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 1 };
}

async function timedPredict(model, config, input, output, folds) {
  const t = performance.now();
  await predict({ input, output, modelDir: model, config, folds, threads });
  return (performance.now() - t) / 1000;
}

for (const key of values.tasks.split(',')) {
  const work = path.resolve('bench/out/cascade', key);
  rmSync(work, { recursive: true, force: true });
  const t0 = performance.now();
  const { dir: ds } = await writeSynthDataset(findTask(key), work, {
    seed: 11,
    size: values.size,
    cases: Number(values.cases),
  });
  const model = path.join(work, 'model');
  const { plans, plansFile } = await plan(ds, model, {
    memoryGb: 4,
    maxPatchVoxels: Number(values['max-patch']),
  });
  if (!plans.configurations['3d_cascade_prior'])
    throw new Error(`${key}: no cascade planned: ${plans.lowresReason}`);
  for (const c of Object.values(plans.configurations))
    c.network.features = c.network.features.map((_, i) => Math.min(16 * 2 ** i, 128));
  writeFileSync(plansFile, JSON.stringify(plans, null, 2));
  const log = (s) => process.stderr.write(`[${key}] ${s}\n`);
  const trainSeconds = {};
  for (const config of configs) {
    const t = performance.now();
    await trainFolds({
      dataset: ds,
      modelDir: model,
      config,
      ...(values.budget
        ? { budgetSeconds: Number(values.budget) }
        : { epochs: Number(values.epochs), itersPerEpoch: Number(values.iters) }),
      optimizer: 'adamw',
      initialLr: 3e-3,
      threads,
      log,
    });
    trainSeconds[config] = Math.round((performance.now() - t) / 1000);
  }
  const best = await findBest({ dataset: ds, modelDir: model, log });
  const rows = [];
  const firstCase = (await readOutOfFoldSummary(model, '3d_fullres', 0)).cases[0].id;
  const input = path.join(ds, 'imagesTr', `${firstCase}_0000.nii.gz`);
  for (const config of configs) {
    let fp = 0;
    let dices = [];
    for (let f = 0; f < 5; f++) {
      const s = await readOutOfFoldSummary(model, config, f);
      for (const c of s.cases) {
        const pred = (await readImage(path.join(validationDir(model, config, f), `${c.id}.nii.gz`))).data;
        const ref = (await readImage(path.join(ds, 'labelsTr', `${c.id}.nii.gz`))).data;
        const k = counts(pred, ref);
        fp += k.fp;
        dices.push(k.dice);
      }
    }
    const seconds = await timedPredict(model, config, input, path.join(work, `pred_${config}.nii.gz`), [0]);
    rows.push({
      config,
      oof_dice: dices.reduce((a, b) => a + b, 0) / dices.length,
      fp_voxels_per_case: Math.round(fp / dices.length),
      predict_s: Number(seconds.toFixed(1)),
      train_s: trainSeconds[config],
    });
  }
  let real = null;
  const crop = path.join(values.real, 'msd-spleen-crop');
  if (key === 'spleen' && existsSync(crop)) {
    const image = path.join(crop, 'sub-spleen2/ct/sub-spleen2_ct.nii.gz');
    const label = path.join(crop, 'derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz');
    const ref = (await readImage(label)).data;
    real = [];
    for (const config of configs) {
      const out = path.join(work, `real_${config}.nii.gz`);
      const seconds = await timedPredict(model, config, image, out, [0, 1, 2, 3, 4]);
      const k = counts((await readImage(out)).data, ref);
      real.push({
        config,
        dice: Number(k.dice.toFixed(4)),
        fp_voxels: k.fp,
        predict_s: Number(seconds.toFixed(1)),
      });
    }
  }
  const line = {
    task: key,
    size: values.size,
    cases: Number(values.cases),
    training_per_fold: values.budget
      ? `${values.budget} s`
      : `${values.epochs} epochs × ${values.iters} steps`,
    max_patch_voxels: Number(values['max-patch']),
    lowres_reason: plans.lowresReason,
    patches: Object.fromEntries(configs.map((c) => [c, plans.configurations[c].patch.join('x')])),
    rows,
    find_best: {
      chosen: best.recipe.configurations.join(' + '),
      candidates: best.recipe.candidates.map((c) => [
        c.members.join(' + '),
        Number((c.meanDice ?? NaN).toFixed(4)),
      ]),
      postprocessing: best.recipe.postprocessing,
    },
    real_spleen_crop: real,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  console.log(JSON.stringify(line));
  console.log(`\n| ${key} | OOF Dice | FP voxels / case | predict s (1 case, fold 0) |\n|---|---|---|---|`);
  for (const r of rows)
    console.log(`| ${r.config} | ${r.oof_dice.toFixed(3)} | ${r.fp_voxels_per_case} | ${r.predict_s} |`);
  console.log(`find-best: ${line.find_best.chosen}\n`);
}
