// The shared real data (../shared/data, MEDSEG_REAL_DATA), leave-one-out: for each case, train on the
// others (3d_fullres, one fold whose training set is every other case and whose validation set is
// the held-out case: splits are data, written here as a user may edit splits.json) and evaluate the
// held-out prediction (the fold's out-of-fold prediction, in the image's own geometry).
//   node bench/realdata.mjs [--sets brats,spinalcord] [--budget 240] [--threads 2]   (after npm run build)
// BraTS 2013 (4 cases, FLAIR + T1c): whole tumour (1+2+3+4), tumour core (1+3+4), enhancing (4).
// Spinal cord (4 cases, one contrast each: T1w, T2w, T2*w, MT; a single "MRI" channel): cord Dice.
// The demo's CPU settings: features 16·2^i capped at 128, AdamW 3e-3, --budget seconds per model.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { datasetFromPattern } from '../dist/src/dataset/from-pattern.js';
import { writeNnunetDataset } from '../dist/src/dataset/export.js';
import { plan } from '../dist/src/plan/run.js';
import { train } from '../dist/src/crossval/train.js';
import { evaluateFolders } from '../dist/src/evaluate/folders.js';
import { validationDir } from '../dist/src/train/outOfFold.js';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'brats,spinalcord' },
    budget: { type: 'string', default: '240' },
    threads: { type: 'string', default: '2' },
    data: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
  },
});
const out = path.resolve('bench/out/realdata');
const budget = Number(values.budget);

async function bratsDataset() {
  const root = path.join(values.data, 'brats2013-deepmedic');
  const ds = await datasetFromPattern({
    root,
    images: [
      'brats_2013_{case}_1/Flair_subtrMeanDivStd.nii.gz',
      'brats_2013_{case}_1/T1c_subtrMeanDivStd.nii.gz',
    ],
    channelNames: ['FLAIR', 'T1c'],
    label: 'brats_2013_{case}_1/OTMultiClass.nii.gz',
    labels: { background: 0, necrosis: 1, oedema: 2, non_enhancing: 3, enhancing: 4 },
    name: 'BraTS2013',
  });
  const dir = path.join(out, 'brats', 'Dataset');
  await writeNnunetDataset(ds, dir, { overwrite: true });
  return {
    dir,
    regions: [
      { name: 'WT', labels: [1, 2, 3, 4] },
      { name: 'TC', labels: [1, 3, 4] },
      { name: 'ET', labels: [4] },
    ],
  };
}

function spinalcordDataset() {
  const root = path.join(values.data, 'spinalcord-sct');
  const dir = path.join(out, 'spinalcord', 'Dataset');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const pairs = {
    t1w: ['t1/t1w.nii.gz', 't1/t1w_seg-manual.nii.gz'],
    t2w: ['t2/t2.nii.gz', 't2/t2_seg-manual.nii.gz'],
    t2s: ['t2s/t2s.nii.gz', 't2s/t2s_seg.nii.gz'],
    mt1: ['mt/mt1.nii.gz', 'mt/mt1_seg.nii.gz'],
  };
  for (const [id, [img, lab]] of Object.entries(pairs)) {
    copyFileSync(path.join(root, img), path.join(dir, 'imagesTr', `sc_${id}_0000.nii.gz`));
    copyFileSync(path.join(root, lab), path.join(dir, 'labelsTr', `sc_${id}.nii.gz`));
  }
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({
      channel_names: { 0: 'MRI' },
      labels: { background: 0, cord: 1 },
      numTraining: 4,
      file_ending: '.nii.gz',
      name: 'SpinalCord',
    }),
  );
  return { dir, regions: [] };
}

for (const set of values.sets.split(',')) {
  const { dir, regions } = set === 'brats' ? await bratsDataset() : spinalcordDataset();
  const ids = (await import('node:fs'))
    .readdirSync(path.join(dir, 'labelsTr'))
    .map((f) => f.replace('.nii.gz', ''))
    .sort();
  const results = [];
  for (const held of ids) {
    const t0 = performance.now();
    const model = path.join(out, set, `model_without_${held}`);
    rmSync(model, { recursive: true, force: true });
    const log = (s) => process.stderr.write(`[${set} −${held}] ${s}\n`);
    const { plans, plansFile } = await plan(dir, model, { memoryGb: 4 });
    const c = plans.configurations['3d_fullres'];
    c.network.features = c.network.features.map((_, i) => Math.min(16 * 2 ** i, 128));
    writeFileSync(plansFile, JSON.stringify(plans, null, 2));
    writeFileSync(
      path.join(model, 'splits.json'),
      JSON.stringify([{ train: ids.filter((i) => i !== held), val: [held] }]),
    );
    const r = await train({
      dataset: dir,
      modelDir: model,
      config: '3d_fullres',
      fold: 0,
      budgetSeconds: budget,
      optimizer: 'adamw',
      initialLr: 3e-3,
      threads: Number(values.threads),
      validationCheckpoint: 'latest', // the held-out case is scored: it must not choose the weights
      log,
    });
    const refDir = path.join(model, 'reference');
    mkdirSync(refDir, { recursive: true });
    copyFileSync(path.join(dir, 'labelsTr', `${held}.nii.gz`), path.join(refDir, `${held}.nii.gz`));
    const predDir = path.join(model, 'prediction');
    mkdirSync(predDir, { recursive: true });
    copyFileSync(
      path.join(validationDir(model, '3d_fullres', 0), `${held}.nii.gz`),
      path.join(predDir, `${held}.nii.gz`),
    );
    const report = await evaluateFolders({
      predDir,
      refDir,
      labels: set === 'brats' ? [] : [1],
      regions,
    });
    const m = report.cases[0].metrics;
    const row = {
      set,
      held_out: held,
      epochs: r.epochs,
      patch: c.patch.join('x'),
      spacing: c.spacing.map((s) => Number(s.toFixed(2))),
      dice: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v.dice.toFixed(4))])),
      hd95: Object.fromEntries(
        Object.entries(m).map(([k, v]) => [k, v.hd95 === null ? null : Number(v.hd95.toFixed(2))]),
      ),
      seconds: Math.round((performance.now() - t0) / 1000),
    };
    results.push(row);
    console.log(JSON.stringify(row));
  }
  const keys = Object.keys(results[0].dice);
  console.log(`\n| ${set} held out | ${keys.map((k) => `Dice ${k}`).join(' | ')} | epochs |`);
  console.log(`|---|${keys.map(() => '---').join('|')}|---|`);
  for (const r of results)
    console.log(`| ${r.held_out} | ${keys.map((k) => r.dice[k].toFixed(3)).join(' | ')} | ${r.epochs} |`);
  const mean = keys.map((k) => results.reduce((a, r) => a + r.dice[k], 0) / results.length);
  console.log(`| mean | ${mean.map((d) => d.toFixed(3)).join(' | ')} | |\n`);
}
