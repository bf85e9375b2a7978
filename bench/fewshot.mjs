// The few-shot table (issue 12): Dice on a target task that pre-training never saw, trained from N = 1
// or 2 cases with the same budget per cell, counted in optimisation steps (not seconds: on a shared
// machine a seconds budget measures the load), from scratch or fine-tuned from a single-task model,
// the multi-task model or the meta-learned initialisation; 3 seeds per cell; everything on 1 thread.
//   node bench/fewshot.mjs pretrain [target=spleen]          once (background it)
//   node bench/fewshot.mjs cells [target=spleen] [steps=200] [N=1,2] [seeds=0,1,2] [rows=scratch,single,multi,meta]
//                                (a row ROW@lrX, e.g. meta@lr0.01, fine-tunes from ROW at learning rate X;
//                                ROW@lrX@wN also with N warm-up steps, e.g. meta@lr0.01@w0: scratch's schedule;
//                                ROW...@fresh with fresh heads where a binary head would be expanded)
//   node bench/fewshot.mjs table [target=spleen]             the markdown table from the cells run so far
//   node bench/fewshot.mjs control [target=spleen]           (after pretrain) the control source `random`:
//                                the common network untrained (one step at lr 1e-12 on a pre-training
//                                task with the target's channel count), for rows random and random@lrX:
//                                fine-tuning's path (plans transferred, weights loaded, fresh heads,
//                                warm-up, its learning rate) from a start that holds no knowledge
// Environment: FEWSHOT_EPOCHS (pre-training length), FEWSHOT_TAG (a separate output folder),
// FEWSHOT_BODY=BASExCAP (the common network's widths, default 8x32), FEWSHOT_PATCH=target (every cell
// on the target's own patch fitted to that network instead of the multi-task model's), FEWSHOT_SINGLE=KEY
// (another single-task source, e.g. brainlesion: pyradiomics' brain MRIs with lesion masks; rows single-KEY).
// (after `npx tsc -p tsconfig.json`). Everything goes to bench/out/fewshot/<target>/; cells already in
// cells.jsonl are skipped, so an interrupted run continues.
// Targets: a synthetic task key (spleen, liver, ...: pre-trained on the other nine), or a shared real
// set read from $MEDSEG_REAL_DATA (default ../shared/data) and written as datasets under the output
// folder (never into the repo):
//   spinalcord  spinalcord-sct: the cord masks of its four contrasts (t1, t2, t2s, mt) as 4 one-channel
//               cases; a cell trains on N of them (rotated by seed) and is evaluated on the others;
//   brats       brats2013-deepmedic: 4 cases, FLAIR + T1c, labels 0-4; N train, the others evaluate.
// Pre-training never sees the target: the ten synthetic tasks and the other real set (spinal cord for
// BraTS, BraTS for spinal cord), which is also the single-task source; real targets also pre-train on
// TotalSegmentator's reference masks of a CT (another model's labels, 117 classes grouped into 7
// tissue systems, 3 slab cases: bench/totalseg-dataset.mjs).
// Fine-tuned cells go through the library's finetune() — what `medseg finetune DS --from MODEL` runs:
// the source's plans transferred (its network and patch, the target's spacing and normalisation), the
// weights loaded by name and shape with the weight table (multi-task and meta sources: the view of
// the task with the target's channel count, the primary first, its stem folded in; new heads where
// the labels differ), fine-tuning's lower learning rate and warm-up. Scratch cells are the ordinary
// trainer on the same network and patch at its own learning rate. Cells fine-tuned by this script's
// former loader (no `start` field) are superseded: not counted as done, not in the table.
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { writeSynthDataset, SYNTH_TASKS, findTask } from '../dist/src/synth/index.js';
import { datasetFromPattern } from '../dist/src/dataset/from-pattern.js';
import { writeNnunetDataset } from '../dist/src/dataset/export.js';
import { datasetFolderName } from '../dist/src/synth/generate.js';
import { plan } from '../dist/src/plan/run.js';
import { readPlans } from '../dist/src/plan/schema.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { trainModel } from '../dist/src/train/index.js';
import { predict } from '../dist/src/infer/predict.js';
import { evaluateFolders } from '../dist/src/evaluate/folders.js';
import { trainMulti } from '../dist/src/multitask/train.js';
import { metaTrain } from '../dist/src/multitask/meta.js';
import { finetune } from '../dist/src/transfer/finetune.js';
import { targetPatchOnNetwork } from '../dist/src/transfer/plans.js';
import { totalsegDataset } from './totalseg-dataset.mjs';

const [phase = 'table', target = 'spleen', ...rest] = process.argv.slice(2);
// FEWSHOT_SMOKE=1: 3 pre-training tasks (4 with TotalSegmentator for a real target), 1 epoch each (checks the script end to end in minutes)
const SMOKE = process.env.FEWSHOT_SMOKE === '1';
const EPOCHS = SMOKE ? 1 : Number(process.env.FEWSHOT_EPOCHS ?? 4);
// FEWSHOT_TAG=x: a separate output folder <target>-x (e.g. a longer pre-training beside the first),
// its datasets shared with <target>'s where those exist
const TAG = process.env.FEWSHOT_TAG;
const OUT = path.resolve('bench/out/fewshot', SMOKE ? `${target}-smoke` : TAG ? `${target}-${TAG}` : target);
// a stage whose model exists is not trained again (pretrain can be rerun after a failure)
const trained = (dir) => existsSync(path.join(OUT, dir, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
const DATA = path.join(OUT, 'data');
const REAL_DATA = path.resolve(process.env.MEDSEG_REAL_DATA ?? '../shared/data');
const REAL = ['spinalcord', 'brats'];
const isReal = (k) => REAL.includes(k);
// FEWSHOT_SINGLE=KEY: another single-task source (trained into single-KEY/, rows single-KEY), e.g.
// brainlesion (pyradiomics' two brain MRIs with their lesion masks: the shared set closest to a glioma)
const SINGLE_OVERRIDE = process.env.FEWSHOT_SINGLE;
const DEFAULT_SINGLE =
  { spleen: 'liver', liver: 'spleen', spinalcord: 'brats', brats: 'spinalcord' }[target] ?? 'liver';
const SINGLE_SOURCE = SINGLE_OVERRIDE ?? DEFAULT_SINGLE;
const SINGLE_DIR = SINGLE_OVERRIDE ? `single-${SINGLE_OVERRIDE}` : 'single';
const THREADS = 1;
const PRE_CASES = 8; // per pre-training task
const EVAL_CASES = 4; // the target's held-out cases (their own seed)
const log = (s) => appendFileSync(path.join(OUT, `${phase}.log`), `${new Date().toISOString()} ${s}\n`);
// a small body for CPU: widths 8, 16, 32, 32, ... (every model of the table has this network);
// FEWSHOT_BODY=16x128 (base × cap) a wider one
const [BASE, CAP] = (process.env.FEWSHOT_BODY ?? '8x32').split('x').map(Number);
const body = (s) => ({ ...s, features: s.features.map((_, i) => Math.min(BASE * 2 ** i, CAP)) });
// FEWSHOT_PATCH=target: every cell trains on the target's own planned patch fitted to the common
// network (finetune --patch target; scratch cells the same patch), not the multi-task model's, which
// is the smallest of its tasks'
const PATCH_FROM = process.env.FEWSHOT_PATCH ?? 'source';
if (!['source', 'target'].includes(PATCH_FROM))
  throw new Error(`FEWSHOT_PATCH must be source or target, got '${PATCH_FROM}'`);
mkdirSync(OUT, { recursive: true });
for (const shared of ['data', 'target']) {
  const from = path.resolve('bench/out/fewshot', target, shared);
  if (TAG && !SMOKE && existsSync(from) && !existsSync(path.join(OUT, shared)))
    symlinkSync(from, path.join(OUT, shared));
}

async function dataset(key, root, seed, cases) {
  return (await writeSynthDataset(findTask(key), root, { seed, size: 'tiny', cases, overwrite: true })).dir;
}

const REAL_FOLDER = {
  spinalcord: 'Dataset201_SpinalCord',
  brats: 'Dataset202_BraTS2013',
  brainlesion: 'Dataset203_BrainLesion',
};

/** The whole shared real set as an nnU-Net dataset under `root` (written once). */
async function realDataset(key, root) {
  const dir = path.join(root, REAL_FOLDER[key]);
  if (existsSync(path.join(dir, 'dataset.json'))) return dir;
  if (key === 'brats') {
    const ds = await datasetFromPattern({
      root: path.join(REAL_DATA, 'brats2013-deepmedic'),
      images: [
        'brats_2013_{case}_1/Flair_subtrMeanDivStd.nii.gz',
        'brats_2013_{case}_1/T1c_subtrMeanDivStd.nii.gz',
      ],
      channelNames: ['FLAIR', 'T1c'],
      label: 'brats_2013_{case}_1/OTMultiClass.nii.gz',
      labels: { background: 0, necrosis: 1, oedema: 2, non_enhancing: 3, enhancing: 4 },
      name: 'BraTS2013',
    });
    await writeNnunetDataset(ds, dir, { overwrite: true });
    return dir;
  }
  if (key === 'brainlesion') {
    // a pre-training source only (never a target): two brain MRIs (0.78 mm in-plane, 6.5 mm slices)
    // with one lesion mask each, NRRD as pyradiomics ships them
    const ds = await datasetFromPattern({
      root: path.join(REAL_DATA, 'pyradiomics'),
      images: ['brain{case}_image.nrrd'],
      channelNames: ['MRI'],
      label: 'brain{case}_label.nrrd',
      labels: { background: 0, lesion: 1 },
      name: 'BrainLesion',
    });
    await writeNnunetDataset(ds, dir, { overwrite: true });
    return dir;
  }
  // the spinal cord's contrasts name their files differently: one case per contrast, listed here
  const root_ = path.join(REAL_DATA, 'spinalcord-sct');
  const cases = [
    ['t1', 't1/t1w.nii.gz', 't1/t1w_seg-manual.nii.gz'],
    ['t2', 't2/t2.nii.gz', 't2/t2_seg-manual.nii.gz'],
    ['t2s', 't2s/t2s.nii.gz', 't2s/t2s_seg.nii.gz'],
    ['mt', 'mt/mt1.nii.gz', 'mt/mt1_seg.nii.gz'],
  ];
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  for (const [id, img, seg] of cases) {
    copyFileSync(path.join(root_, img), path.join(dir, 'imagesTr', `cord_${id}_0000.nii.gz`));
    copyFileSync(path.join(root_, seg), path.join(dir, 'labelsTr', `cord_${id}.nii.gz`));
  }
  const json = {
    name: 'SpinalCord',
    description: 'spinalcord-sct (shared data): cord masks of the t1, t2, t2s and mt contrasts',
    licence: 'MIT (spinalcord-sct/LICENSE)',
    channel_names: { 0: 'MRI' },
    labels: { background: 0, cord: 1 },
    numTraining: cases.length,
    file_ending: '.nii.gz',
  };
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(json, null, 2)); // last: marks it complete
  return dir;
}

/** A dataset of some cases of `full` (copied), in `dir`. */
function subset(full, ids, dir) {
  rmSync(dir, { recursive: true, force: true });
  const json = JSON.parse(readFileSync(path.join(full, 'dataset.json'), 'utf8'));
  const channels = Object.keys(json.channel_names).length;
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  for (const id of ids) {
    for (let c = 0; c < channels; c++) {
      const f = `${id}_${String(c).padStart(4, '0')}.nii.gz`;
      copyFileSync(path.join(full, 'imagesTr', f), path.join(dir, 'imagesTr', f));
    }
    copyFileSync(path.join(full, 'labelsTr', `${id}.nii.gz`), path.join(dir, 'labelsTr', `${id}.nii.gz`));
  }
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({ ...json, numTraining: ids.length }, null, 2),
  );
  return dir;
}

const caseIdsOf = (ds) =>
  readdirSync(path.join(ds, 'labelsTr'))
    .map((f) => f.replace(/\.nii\.gz$/, ''))
    .sort();

/** A cell's training cases and evaluation dataset: synthetic targets generate them (seeded); real
 * ones rotate through their cases (N train, the others evaluate). */
async function cellData(n, seed, dir) {
  if (!isReal(target)) {
    const evalDir = path.join(OUT, 'eval', datasetFolderName(findTask(target)));
    if (!existsSync(path.join(evalDir, 'dataset.json')))
      await dataset(target, path.join(OUT, 'eval'), 999, EVAL_CASES);
    return { ds: await dataset(target, path.join(dir, 'data'), 1000 + seed, n), evalDir, train: null };
  }
  const full = await realDataset(target, path.join(OUT, 'target'));
  const ids = caseIdsOf(full);
  if (n >= ids.length) throw new Error(`${target} has ${ids.length} cases: N = ${n} leaves none to evaluate`);
  const train = ids.filter((_, i) => (i - seed + ids.length * 10) % ids.length < n);
  const rest = ids.filter((id) => !train.includes(id));
  return {
    ds: subset(full, train, path.join(dir, 'data', REAL_FOLDER[target])),
    evalDir: subset(full, rest, path.join(dir, 'eval', REAL_FOLDER[target])),
    train,
  };
}

async function pretrain() {
  const others = [...SYNTH_TASKS.map((t) => t.key), ...REAL, 'totalseg'].filter(
    (k) =>
      k !== target &&
      // a real target's pre-training has the other real set and TotalSegmentator's CT; a synthetic
      // target's has neither
      ((!isReal(k) && k !== 'totalseg') || isReal(target)) &&
      (!SMOKE || ['hippocampus', 'prostate', 'totalseg', DEFAULT_SINGLE].includes(k)),
  );
  // stages to run (default all; separate processes may run them side by side once the data exist)
  const stages = (rest[0] ?? 'multi,meta,single').split(',');
  const dirs = [];
  for (const k of others) {
    if (k === 'totalseg') dirs.push(await totalsegDataset(REAL_DATA, DATA));
    else if (isReal(k)) dirs.push(await realDataset(k, DATA));
    else {
      const dir = path.join(DATA, datasetFolderName(findTask(k)));
      if (existsSync(path.join(dir, 'dataset.json'))) dirs.push(dir);
      else dirs.push(await dataset(k, DATA, 7, PRE_CASES));
    }
    log(`${k} ready`);
  }
  const t0 = performance.now();
  if (stages.includes('multi') && !trained('multi'))
    await trainMulti({
      datasets: dirs,
      modelDir: path.join(OUT, 'multi'),
      epochs: EPOCHS,
      itersPerEpoch: 20,
      valPatches: 1,
      threads: THREADS,
      workers: 0,
      memoryGb: 2,
      body,
      log,
    });
  log(`multi-task done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const t1 = performance.now();
  if (stages.includes('meta') && !trained('meta'))
    await metaTrain({
      datasets: dirs,
      modelDir: path.join(OUT, 'meta'),
      epochs: EPOCHS,
      itersPerEpoch: 4, // 4 meta-iterations × 5 inner steps per epoch
      innerSteps: 5,
      valPatches: 1,
      threads: THREADS,
      workers: 0,
      memoryGb: 2,
      body,
      log,
    });
  log(`meta-train done in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  // the single-task source: the same network and patch as the multi-task model, one task
  const t2 = performance.now();
  const src = others.includes(SINGLE_SOURCE)
    ? dirs[others.indexOf(SINGLE_SOURCE)]
    : await realDataset(SINGLE_SOURCE, DATA);
  const model = path.join(OUT, SINGLE_DIR);
  if (stages.includes('single') && !trained(SINGLE_DIR)) await sharedPlans(src, model);
  if (stages.includes('single') && !trained(SINGLE_DIR))
    await trainModel({
      dataset: src,
      modelDir: model,
      epochs: EPOCHS,
      itersPerEpoch: 20,
      valPatches: 1,
      threads: THREADS,
      memoryGb: 2,
      log,
    });
  log(`single-task (${SINGLE_SOURCE}) done in ${((performance.now() - t2) / 1000).toFixed(0)} s`);
}

/** plans for `ds` with the multi-task model's network and patch (its own channels, classes, spacing;
 * with FEWSHOT_PATCH=target its own patch fitted to that network, as finetune --patch target does). */
async function sharedPlans(ds, model) {
  const shared = (await readPlans(path.join(OUT, 'multi', 'plans.json'))).configurations['3d_fullres'];
  const { plans } = await plan(ds, model, { memoryGb: 2 });
  const c = plans.configurations['3d_fullres'];
  const network = {
    ...shared.network,
    inputChannels: plans.channelNames.length,
    numClasses: plans.labelValues.length,
  };
  const patch =
    PATCH_FROM === 'target'
      ? { patch: targetPatchOnNetwork(c, network, plans.memoryGb), batchSize: c.batchSize }
      : { patch: shared.patch, batchSize: shared.batchSize };
  await writePlans(model, { ...plans, configurations: { '3d_fullres': { ...c, ...patch, network } } });
}

/** Epochs × iterations of a budget of `steps` optimisation steps (iterations ≤ 25 per epoch). */
function schedule(steps) {
  const itersPerEpoch = Math.min(25, steps);
  return { epochs: Math.ceil(steps / itersPerEpoch), itersPerEpoch };
}

async function cell(row, n, seed, steps) {
  const dir = path.join(OUT, 'cells', `${row}-n${n}-s${seed}-steps${steps}`);
  rmSync(dir, { recursive: true, force: true });
  const { ds, evalDir, train } = await cellData(n, seed, dir);
  const model = path.join(dir, 'model');
  const caseIds = readdirSync(path.join(ds, 'labelsTr')).map((f) => f.replace(/\.nii\.gz$/, ''));
  // all N cases train; validation (pseudo-Dice only) on the same cases: there is nothing else
  mkdirSync(model, { recursive: true });
  writeFileSync(path.join(model, 'splits.json'), JSON.stringify([{ train: caseIds, val: caseIds }]));
  const t0 = performance.now();
  const { epochs, itersPerEpoch } = schedule(steps);
  const common = {
    dataset: ds,
    modelDir: model,
    epochs,
    itersPerEpoch,
    seed,
    threads: THREADS,
    valPatches: 1,
    memoryGb: 2,
    log: (s) => log(`${row} N=${n} seed ${seed}: ${s}`),
  };
  let r;
  let transfer = null;
  if (row === 'scratch') {
    await sharedPlans(ds, model);
    r = await trainModel(common);
  } else {
    // the user's path: finetune() writes the plans (transferred from the source), loads the weights;
    // a row `meta@lr0.01` fine-tunes from `meta` at that learning rate instead of finetune's default,
    // `meta@lr0.01@w0` also with that many warm-up steps
    const { source, lr, warmup, fresh } = parseRow(row);
    const ft = await finetune({
      ...common,
      from: path.join(OUT, source),
      validate: false,
      patchFrom: PATCH_FROM,
      ...(lr ? { initialLr: Number(lr) } : {}),
      ...(warmup ? { warmupSteps: Number(warmup) } : {}),
      ...(fresh ? { freshHeads: true } : {}),
    });
    r = ft.results[0];
    const fates = {};
    for (const w of ft.record.weights ?? []) fates[w.fate] = (fates[w.fate] ?? 0) + 1;
    transfer = {
      source_task: ft.record.source.task ?? null,
      lr: ft.record.initialLr,
      warmup_steps: ft.record.warmupSteps,
      weights: fates,
    };
  }
  const trainS = (performance.now() - t0) / 1000;
  const pred = path.join(dir, 'pred');
  await predict({ input: path.join(evalDir, 'imagesTr'), output: pred, modelDir: model, threads: THREADS });
  const ev = await evaluateFolders({ predDir: pred, refDir: path.join(evalDir, 'labelsTr') });
  const fg = ev.keys.filter((k) => ev.mean[k].dice !== null);
  const dice = fg.reduce((a, k) => a + ev.mean[k].dice, 0) / fg.length;
  return {
    row,
    n,
    seed,
    budget_steps: epochs * itersPerEpoch,
    epochs: r.epochs,
    train_cases: train ?? undefined,
    train_s: Math.round(trainS),
    dice,
    per_label: Object.fromEntries(fg.map((k) => [k, ev.mean[k].dice])),
    start: row === 'scratch' ? 'train' : 'finetune',
    patch: JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')).configurations['3d_fullres']
      .patch,
    ...(transfer ? { transfer } : {}),
  };
}

async function cells() {
  const steps = Number(rest[0] ?? 200);
  if (!(Number.isInteger(steps) && steps > 0))
    throw new Error(`cells: the budget is a step count, got '${rest[0]}'`);
  const budget = schedule(steps).epochs * schedule(steps).itersPerEpoch;
  const Ns = (rest[1] ?? '1,2').split(',').map(Number);
  const seeds = (rest[2] ?? '0,1,2').split(',').map(Number);
  const rows = (rest[3] ?? 'scratch,single,multi,meta').split(',');
  const done = readCells();
  const file = path.join(OUT, 'cells.jsonl');
  for (const seed of seeds)
    for (const n of Ns)
      for (const row of rows) {
        if (done.some((d) => d.row === row && d.n === n && d.seed === seed && d.budget_steps === budget))
          continue;
        try {
          const r = await cell(row, n, seed, budget);
          appendFileSync(file, `${JSON.stringify(r)}\n`);
          console.log(JSON.stringify(r));
        } catch (e) {
          log(`${row} N=${n} seed ${seed}: ${e.stack ?? e}`);
          console.log(JSON.stringify({ row, n, seed, error: String(e.message ?? e).slice(0, 300) }));
        }
      }
}

/** The cells of cells.jsonl that count: fine-tuned cells of the former loader (no `start`) do not. */
function readCells() {
  const file = path.join(OUT, 'cells.jsonl');
  const all = existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  const kept = all.filter((c) => c.row === 'scratch' || c.start === 'finetune');
  if (kept.length < all.length)
    console.error(`${all.length - kept.length} cell(s) fine-tuned by the former loader ignored (rerun)`);
  return kept;
}

function table() {
  const all = readCells();
  const manifest = path.join(OUT, 'multi', 'multitask.json');
  const tasks = existsSync(manifest)
    ? `${JSON.parse(readFileSync(manifest, 'utf8')).tasks.length} tasks`
    : 'pre-training tasks';
  const names = {
    scratch: 'from scratch',
    single: `fine-tuned from single-task (${DEFAULT_SINGLE})`,
    ...(SINGLE_OVERRIDE ? { [SINGLE_DIR]: `fine-tuned from single-task (${SINGLE_OVERRIDE})` } : {}),
    random: 'fine-tuned from the untrained network (control)',
    multi: `fine-tuned from multi-task (${tasks})`,
    meta: `fine-tuned from Reptile init (${tasks})`,
  };
  // one table per budget (older runs counted seconds, newer ones steps)
  const budgetOf = (c) => (c.budget_steps !== undefined ? `${c.budget_steps} steps` : `${c.budget_s} s`);
  for (const budget of [...new Set(all.map(budgetOf))].sort()) {
    const cells = all.filter((c) => budgetOf(c) === budget);
    const Ns = [...new Set(cells.map((c) => c.n))].sort();
    const lines = [
      `| start (target ${target}, ${budget} per cell, 1 thread) | ${Ns.map((n) => `N = ${n}`).join(' | ')} |`,
      `|---|${Ns.map(() => '---').join('|')}|`,
    ];
    const extra = [...new Set(cells.map((c) => c.row))].filter((r) => r.includes('@')).sort();
    const control = [...new Set(cells.map((c) => c.row))].filter((r) => r === 'random');
    const singles = SINGLE_OVERRIDE ? [SINGLE_DIR] : [];
    for (const row of ['scratch', 'single', ...singles, 'multi', 'meta', ...control, ...extra]) {
      const { source, lr, warmup, fresh } = parseRow(row);
      const name =
        lr || warmup || fresh
          ? `${names[source]}, ${[lr && `lr ${lr}`, warmup && `warm-up ${warmup}`, fresh && 'fresh heads'].filter(Boolean).join(', ')} (finetune's defaults: lr 0.001, warm-up 50)`
          : names[row];
      const fmt = (d) => {
        if (!d.length) return 'not run';
        const m = d.reduce((a, b) => a + b, 0) / d.length;
        const sd = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, d.length - 1));
        return d.length > 1
          ? `${m.toFixed(3)} ± ${sd.toFixed(3)} (${d.length} seeds)`
          : `${m.toFixed(3)} (1 seed)`;
      };
      const of = (n) => cells.filter((c) => c.row === row && c.n === n).map((c) => c.dice);
      lines.push(`| ${name} | ${Ns.map((n) => fmt(of(n))).join(' | ')} |`);
    }
    console.log(`${lines.join('\n')}\n`);
  }
}

/** A row's source and its fine-tuning settings: ROW[@lrX][@wN][@fresh] (@fresh: finetune --fresh-heads). */
function parseRow(row) {
  const [source, ...opts] = row.split('@');
  const lr = opts.find((o) => o.startsWith('lr'))?.slice(2);
  const warmup = opts.find((o) => /^w\d+$/.test(o))?.slice(1);
  const fresh = opts.includes('fresh');
  return { source, lr, warmup, fresh };
}

/** The control source: the common network as initialised, no knowledge in it (see the top). */
async function control() {
  const model = path.join(OUT, 'random');
  if (trained('random')) return;
  const chans = (d) =>
    Object.keys(JSON.parse(readFileSync(path.join(d, 'dataset.json'), 'utf8')).channel_names).length;
  // the target's channel count, from one cell's training data (written, read, removed)
  const probe = path.join(OUT, 'control-probe');
  const channels = chans((await cellData(1, 0, probe)).ds);
  rmSync(probe, { recursive: true, force: true });
  const candidates = readdirSync(DATA)
    .map((d) => path.join(DATA, d))
    .filter((d) => existsSync(path.join(d, 'dataset.json')))
    .sort();
  const src = candidates.find((d) => chans(d) === channels) ?? candidates[0];
  await sharedPlans(src, model);
  await trainModel({
    dataset: src,
    modelDir: model,
    epochs: 1,
    itersPerEpoch: 1,
    initialLr: 1e-12,
    valPatches: 1,
    threads: THREADS,
    memoryGb: 2,
    log,
  });
  log(`control source 'random': ${path.basename(src)}'s plans, the network as initialised`);
}

if (phase === 'pretrain') await pretrain();
else if (phase === 'cells') await cells();
else if (phase === 'control') await control();
else table();
