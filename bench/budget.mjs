// Budget-aware planning against nnU-Net's default plan and the hand-sized CPU plan, under the same
// training budget on the same machine: budget → chosen plan → step time → steps → Dice.
//   node bench/budget.mjs [--sets brats,synth] [--budgets 10,20,40] [--plans budget,default,hand]
//                         [--rotations 0,1,2,3] [--tasks hippocampus,prostate] [--size small]
//                         [--threads 2] [--shared]   (after npm run build; budgets in minutes, may be fractions)
//                         [--time-only | --idle-steps FILE] [--patch 64x96x112] [--width 16] [--tag NAME] [--seed N]
// `--patch` holds the budget plan's patch fixed (its network re-derived for that patch at the plan's
// widths, everything else as planned): it separates the patch from what else changed between runs.
// A shared machine makes wall-clock cells meaningless, so a run can be split in two: `--time-only`
// (on an idle machine: minutes) runs each cell's first epochs as `train --budget` does and writes
// the seconds per step of its median epoch (what `train --budget` refits to after every epoch) to
// bench/out/budget/idle-steps.json (entries before session 18 hold the first three steps' time,
// which read 20-35 % slow); `--idle-steps FILE` then trains
// every cell with the epochs × iterations that `train --budget` would fit from that idle step time
// (src/train/budget.ts's fitEpochs), whatever the load: the steps and Dice of an idle machine, the
// wall time of a busy one. `--threads` then only sets how many cores each cell uses.
// (a) BraTS 2013 (shared data, 4 cases): train on 3, evaluate the 4th (rotation k holds out case k);
//     whole tumour (1+2+3+4), tumour core (1+3+4), enhancing (4), Dice and HD95, no post-processing.
//     The dataset declares those regions (region-based training, as nnU-Net trains BraTS);
//     `--softmax-labels` trains the 5 labels as softmax classes instead.
// (b) synthetic decathlon tasks (size small, 10 cases): fold 0 of the 5-fold split, its 2 validation
//     cases, Dice per label; and `--test-cases N` (default 12) unseen cases of the same task drawn
//     with another seed, predicted by the same weights (two validation cases cannot separate plans
//     that differ by 0.01; twelve cases, compared case by case, can).
// Every cell is scored from its last epoch's weights: the cases scored must not choose them.
// Plans: `budget` = plan --budget (the rule of src/plan/budget.ts, calibration cached per machine);
// `default` = nnU-Net's plan as planned (SGD 0.01); `hand` = features 16…128 at half nnU-Net's patch
// voxels (BraTS: 64×96×96), AdamW 3e-3, bf16 where native (issue 11's hand-sized plan). Every cell
// trains with `train --budget` (epochs fitted to the wall clock), so a loaded machine shortens all of
// them alike: compare cells of one run, and say whether the machine was shared.
// One JSON line per cell on stdout (and bench/out/budget/cells.jsonl), then a Markdown table.
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { datasetFromPattern } from '../dist/src/dataset/from-pattern.js';
import { writeNnunetDataset } from '../dist/src/dataset/export.js';
import { plan } from '../dist/src/plan/run.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { candidateNetwork, fitPlansToBudget, defaultBf16, WIDTHS } from '../dist/src/plan/index.js';
import { findTask, writeSynthDataset } from '../dist/src/synth/index.js';
import { predict } from '../dist/src/infer/predict.js';
import { train } from '../dist/src/crossval/train.js';
import { evaluateFolders } from '../dist/src/evaluate/folders.js';
import { validationDir } from '../dist/src/train/outOfFold.js';
import { fitEpochs } from '../dist/src/train/budget.js';
import { FINGERPRINT_CROP } from '../dist/src/plan/fingerprint.js';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'brats,synth' },
    budgets: { type: 'string', default: '10,20,40' },
    plans: { type: 'string', default: 'budget,default,hand' },
    rotations: { type: 'string', default: '0,1' },
    tasks: { type: 'string', default: 'hippocampus,prostate' },
    size: { type: 'string', default: 'small' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    shared: { type: 'boolean', default: false },
    'time-only': { type: 'boolean', default: false },
    // BraTS with its 5 labels as softmax classes (session 5's runs) instead of the nested regions
    'softmax-labels': { type: 'boolean', default: false },
    'idle-steps': { type: 'string' },
    // threads the plan is calibrated for (the user's machine); --threads is what training uses
    'plan-threads': { type: 'string' },
    // a fixed patch for the budget plan (e.g. 64x96x112); its cells have their own key and model
    patch: { type: 'string' },
    // fixed base features for the budget plan (16: 16…128; cap as the rule's widths), own key too
    width: { type: 'string' },
    // a label for this run's models and rows (another code version of the same cell, e.g. 'chanaug')
    tag: { type: 'string' },
    // the training seed (weights and batches); cells of a nonzero seed have their own model and row
    seed: { type: 'string', default: '0' },
    // unseen cases per synthetic task (another generator seed), scored beside the validation cases
    'test-cases': { type: 'string', default: '12' },
    data: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
  },
});
const out = path.resolve('bench/out/budget');
mkdirSync(out, { recursive: true });
const threads = Number(values.threads);
const planThreads = Number(values['plan-threads'] ?? values.threads);
const idleFile = path.join(out, 'idle-steps.json');
const idleSteps = values['idle-steps'] ? JSON.parse(readFileSync(values['idle-steps'], 'utf8')) : null;
const TIMED = Symbol('timed');
/** Epochs timed by --time-only after the first (which carries the first-call costs). */
const TIMED_EPOCHS = 3;
const LABEL_MODE = values['softmax-labels'] ? 'softmax' : 'regions';
const rows = [];
const FIXED_PATCH = values.patch ? values.patch.split('x').map(Number) : null;
const FIXED_WIDTH = values.width ? WIDTHS.find((w) => w.base === Number(values.width)) : null;
if (values.width && !FIXED_WIDTH)
  throw new Error(`--width must be one of ${WIDTHS.map((w) => w.base).join(', ')}, got ${values.width}`);
const PATCH_TAG = `${FIXED_PATCH ? ` p${values.patch}` : ''}${FIXED_WIDTH ? ` w${FIXED_WIDTH.base}` : ''}`;
const SEED = Number(values.seed);

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
    // nnU-Net's BraTS set-up: the nested regions are the classes (region-based training, sigmoid
    // outputs); a prediction writes oedema (2) for whole tumour, necrosis (1) for core, 4 for enhancing
    ...(values['softmax-labels']
      ? { labels: { background: 0, necrosis: 1, oedema: 2, non_enhancing: 3, enhancing: 4 } }
      : {
          labels: { background: 0, 'whole tumour': [1, 2, 3, 4], 'tumour core': [1, 3, 4], enhancing: [4] },
          regionClassOrder: [2, 1, 4],
        }),
    name: 'BraTS2013',
  });
  // written once per label mode (parallel runs of other rotations share it), complete or not at all
  const dir = path.join(out, 'brats', `Dataset-${LABEL_MODE}`);
  if (existsSync(path.join(dir, 'dataset.json'))) return dir;
  const partial = `${dir}.${process.pid}`;
  await writeNnunetDataset(ds, partial, { overwrite: true });
  renameSync(partial, dir);
  return dir;
}

const REGIONS = [
  { name: 'WT', labels: [1, 2, 3, 4] },
  { name: 'TC', labels: [1, 3, 4] },
  { name: 'ET', labels: [4] },
];

/** Rewrites the model's 3d_fullres for the plan kind; returns a one-line description. */
async function shapePlan(kind, model, plans, seconds, log) {
  let c = plans.configurations['3d_fullres'];
  if (kind === 'budget') {
    plans = await fitPlansToBudget(plans, { seconds, threads: planThreads, log });
    c = plans.configurations['3d_fullres'];
    if (FIXED_PATCH || FIXED_WIDTH) {
      const f = c.network.features;
      const { patch, network } = candidateNetwork(
        c,
        FIXED_PATCH ?? c.patch,
        FIXED_WIDTH ?? { base: f[0], cap: Math.max(...f) },
      );
      c = { ...c, patch, network, budget: { ...c.budget, why: `${c.budget.why}; fixed by${PATCH_TAG}` } };
      log(`plan held at ${patch.join('x')}, features ${network.features.join(',')} (${PATCH_TAG.trim()})`);
    }
  } else if (kind === 'hand') {
    const scale = 0.5 ** (1 / 3);
    const { patch, network } = candidateNetwork(
      c,
      c.patch.map((p) => Math.round(p * scale)),
      { base: 16, cap: 128 },
    );
    c = {
      ...c,
      patch,
      network,
      budget: { seconds, stepSeconds: 0, steps: 0, why: 'hand-sized CPU plan (benchmark baseline)' },
      training: {
        optimizer: 'adamw',
        initialLr: 3e-3,
        warmupSteps: 0,
        bf16: defaultBf16(),
        epochs: 1,
        itersPerEpoch: 250,
      },
    };
  } else {
    // a budget section keeps `train --budget` from re-planning: nnU-Net's plan and SGD as they are
    c = {
      ...c,
      budget: { seconds, stepSeconds: 0, steps: 0, why: "nnU-Net's default plan (benchmark baseline)" },
    };
  }
  plans.configurations['3d_fullres'] = c;
  await writePlans(model, plans);
  const f = c.network.features;
  return { patch: c.patch.join('x'), features: `${f[0]}…${f.at(-1)}`, stages: f.length, batch: c.batchSize };
}

const round = (v, digits) => (v == null ? null : Number(v.toFixed(digits)));
/** Dice (3 decimals) and HD95 (mm, 1 decimal) per label or region of an evaluation report's mean. */
const meanMetrics = (report) => ({
  dice: Object.fromEntries(Object.entries(report.mean).map(([k, m]) => [k, round(m.dice, 3)])),
  hd95: Object.fromEntries(Object.entries(report.mean).map(([k, m]) => [k, round(m.hd95, 1)])),
});

/** Dice and HD95 per label of `model`'s last epoch on a test dataset's cases (null without one). */
async function scoreTestSet(model, testDataset, labels) {
  if (!testDataset) return null;
  const predDir = path.join(model, 'test-prediction');
  rmSync(predDir, { recursive: true, force: true });
  await predict({
    input: path.join(testDataset, 'imagesTr'),
    output: predDir,
    modelDir: model,
    config: '3d_fullres',
    folds: [0],
    checkpoint: 'latest',
    autocast: null,
    threads,
  });
  const report = await evaluateFolders({ predDir, refDir: path.join(testDataset, 'labelsTr'), labels });
  return {
    cases: report.cases.length,
    ...meanMetrics(report),
    // per case, so that two plans can be compared case by case
    caseDice: report.cases.map((c) => [
      c.case,
      Object.fromEntries(Object.entries(c.metrics).map(([k, m]) => [k, round(m.dice, 4)])),
    ]),
  };
}

async function cell({ set, dataset, held, fold, splits, kind, minutes, regions, labels, testDataset }) {
  const t0 = performance.now();
  // a budget cell with --patch: its own key, model folder and row
  const patchTag = kind === 'budget' ? PATCH_TAG : '';
  const tag = `${set}${held ? `-${held}` : ''} ${minutes}m ${kind}${patchTag}`;
  const model = path.join(
    out,
    set,
    // models of plans cropping to the background (the default since session 7) sit beside the old ones
    `${held ?? 'fold0'}_${minutes}m_${kind}${patchTag.replaceAll(' ', '_')}${set === 'brats' ? `_${LABEL_MODE}` : ''}${FINGERPRINT_CROP === 'background' ? '_bgcrop' : ''}${values.tag ? `_${values.tag}` : ''}${SEED ? `_seed${SEED}` : ''}`,
  );
  rmSync(model, { recursive: true, force: true });
  const lines = [];
  const log = (s) => {
    lines.push(s);
    process.stderr.write(`[${tag}] ${s}\n`);
  };
  const { plans } = await plan(dataset, model, {});
  if (splits) writeFileSync(path.join(model, 'splits.json'), JSON.stringify(splits));
  const seconds = minutes * 60;
  const shape = await shapePlan(kind, model, plans, seconds, log);
  const key = `${set} ${minutes} ${kind}${patchTag}`;
  if (values['time-only']) {
    // train --budget's first epochs: its step time is the median epoch's (what train --budget
    // refits its epochs from after every epoch), not its first three steps' (read 20-35 % slow:
    // allocations and the loader's start)
    const starts = [];
    try {
      await train({
        dataset,
        modelDir: model,
        config: '3d_fullres',
        fold,
        budgetSeconds: seconds,
        threads,
        log,
        beforeEpoch: (epoch) => {
          starts.push(performance.now());
          if (epoch === TIMED_EPOCHS + 1) throw TIMED;
        },
      });
    } catch (e) {
      if (e !== TIMED) throw e;
    }
    const fit = lines.map((l) => /at ([\d.]+) s\/step: \d+ epochs × (\d+) iterations/.exec(l)).find(Boolean);
    // epoch 0 carries the first-call costs: epochs 1 … TIMED_EPOCHS
    const epochs = starts
      .slice(1)
      .map((t, i) => (starts[i + 2] ?? NaN) - t)
      .filter(Number.isFinite);
    const median = [...epochs].sort((a, b) => a - b)[epochs.length >> 1] / 1000;
    const table = existsSync(idleFile) ? JSON.parse(readFileSync(idleFile, 'utf8')) : {};
    table[key] = {
      s_per_step: Number((median / Number(fit[2])).toFixed(3)),
      first_steps: Number(fit[1]),
      timing: `median of epochs 1-${TIMED_EPOCHS} × ${fit[2]} iterations`,
      ...shape,
      load: Number(os.loadavg()[0].toFixed(2)),
      at: new Date().toISOString(),
    };
    writeFileSync(idleFile, `${JSON.stringify(table, null, 2)}\n`);
    console.log(JSON.stringify({ key, ...table[key] }));
    return;
  }
  let fixed = {};
  if (idleSteps) {
    const idle = idleSteps[key];
    if (!idle)
      throw new Error(`${values['idle-steps']} has no idle step time for '${key}': run --time-only first`);
    const plannedIters =
      JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')).configurations['3d_fullres'].training
        ?.itersPerEpoch ?? 250;
    const e = fitEpochs(seconds, idle.s_per_step, plannedIters);
    fixed = { epochs: e.totalEpochs, itersPerEpoch: e.itersPerEpoch };
    log(
      `idle-equivalent: ${idle.s_per_step} s/step idle → ${e.totalEpochs} epochs × ${e.itersPerEpoch} iterations`,
    );
  }
  const tTrain = performance.now();
  const r = await train({
    dataset,
    modelDir: model,
    config: '3d_fullres',
    fold,
    ...(idleSteps ? fixed : { budgetSeconds: seconds }),
    seed: SEED,
    threads,
    // the validation cases are the cases scored: the last epoch's weights, not the epoch they liked best
    validationCheckpoint: 'latest',
    log,
  });
  const trainSeconds = (performance.now() - tTrain) / 1000;
  // the step time and iterations per epoch the cell ran with: the idle table's, else train's own fit
  const m = lines.map((l) => /at ([\d.]+) s\/step: (\d+) epochs × (\d+) iterations/.exec(l)).find(Boolean);
  const fit = idleSteps
    ? { sPerStep: idleSteps[key].s_per_step, iters: fixed.itersPerEpoch }
    : m && { sPerStep: Number(m[1]), iters: Number(m[3]) };
  const iters = fit ? fit.iters : NaN;
  const val = validationDir(model, '3d_fullres', fold);
  const predDir = path.join(model, 'prediction');
  const refDir = path.join(model, 'reference');
  mkdirSync(predDir, { recursive: true });
  mkdirSync(refDir, { recursive: true });
  const ids = readdirSync(val).filter((f) => f.endsWith('.nii.gz') && !f.includes('_probabilities'));
  for (const f of ids) {
    copyFileSync(path.join(val, f), path.join(predDir, f));
    copyFileSync(path.join(dataset, 'labelsTr', f), path.join(refDir, f));
  }
  const report = await evaluateFolders({ predDir, refDir, labels, regions });
  const test = await scoreTestSet(model, testDataset, labels);
  const row = {
    set,
    held_out: held,
    budget_min: minutes,
    plan: kind + patchTag,
    ...(values.tag ? { tag: values.tag } : {}),
    seed: SEED,
    ...(set === 'brats' ? { labels_as: LABEL_MODE } : {}),
    crop:
      JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')).configurations['3d_fullres'].crop ??
      'nonzero',
    ...shape,
    s_per_step: fit ? Number(fit.sPerStep.toFixed(2)) : null,
    steps: r.history.length * iters,
    ...meanMetrics(report),
    ...(test ? { test } : {}),
    train_s: Math.round(trainSeconds),
    total_s: Math.round((performance.now() - t0) / 1000),
    machine: `${os.cpus()[0]?.model} ×${os.availableParallelism()}, threads ${threads}, load ${os.loadavg()[0].toFixed(1)}${values.shared ? ' (shared)' : ''}${idleSteps ? ', steps from the idle step time' : ''}`,
  };
  rows.push(row);
  appendFileSync(path.join(out, 'cells.jsonl'), `${JSON.stringify(row)}\n`);
  console.log(JSON.stringify(row));
}

const budgets = values.budgets.split(',').map(Number);
const kinds = values.plans.split(',');
for (const set of values.sets.split(',')) {
  if (set === 'brats') {
    const dataset = await bratsDataset();
    const ids = readdirSync(path.join(dataset, 'labelsTr'))
      .map((f) => f.replace('.nii.gz', ''))
      .sort();
    for (const k of values.rotations.split(',').map(Number)) {
      const held = ids[k];
      const splits = [{ train: ids.filter((i) => i !== held), val: [held] }];
      for (const minutes of budgets)
        for (const kind of kinds)
          await cell({ set, dataset, held, fold: 0, splits, kind, minutes, regions: REGIONS, labels: [] });
    }
  } else {
    for (const task of values.tasks.split(',')) {
      rmSync(path.join(out, task, 'data'), { recursive: true, force: true });
      const { dir } = await writeSynthDataset(findTask(task), path.join(out, task, 'data'), {
        seed: 0,
        size: 'small',
        cases: 10,
      });
      const nTest = Number(values['test-cases']);
      rmSync(path.join(out, task, 'test'), { recursive: true, force: true });
      const testDataset =
        nTest > 0
          ? (
              await writeSynthDataset(findTask(task), path.join(out, task, 'test'), {
                seed: 1234,
                size: 'small',
                cases: nTest,
              })
            ).dir
          : null;
      for (const minutes of budgets)
        for (const kind of kinds)
          await cell({ set: task, dataset: dir, fold: 0, kind, minutes, testDataset });
    }
  }
}

console.log(
  '\n| set | held out | budget | plan | patch | features | s/step | steps | Dice | HD95 | Dice, unseen cases |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const fmt = (o) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v ?? '–'}`)
      .join(', ');
  console.log(
    `| ${r.set} | ${r.held_out ?? 'fold 0'} | ${r.budget_min} min | ${r.plan} | ${r.patch} | ${r.features} | ${r.s_per_step ?? '–'} | ${r.steps} | ${fmt(r.dice)} | ${fmt(r.hd95)} | ${r.test ? `${fmt(r.test.dice)} (${r.test.cases})` : '–'} |`,
  );
}
