// Post-processing for a budgeted run (issue 11): held-out Dice and HD95 without and with the
// post-processing a single budgeted run can afford, on the cells bench/budget.mjs leaves.
//   node bench/postprocess-budget.mjs CELL... [--dataset DIR] [--fold 0] [--tolerance 0.02]
//        [--regions brats|labels]                    (after npm run build)
//   node bench/postprocess-budget.mjs --synthetic    (builds a small BraTS-like cell and runs on it)
//   node bench/postprocess-budget.mjs --priors DATASET   (what the prior chooses with each case held out)
// A CELL is a model folder of bench/budget.mjs (bench/out/budget/brats/<held>_<min>m_<plan>): its
// plans.json and splits.json, prediction/ (the held-out case's raw prediction) and reference/. The
// dataset (for the training labels) defaults to CELL/../Dataset. Nothing is written inside a cell:
// post-processing is applied in memory as each prediction is read for evaluation.
// Rows per cell:
//   none             the raw prediction (what bench/budget.mjs reports);
//   prior            the rule of a run without an independent validation case
//                    (src/postprocess/prior.ts, on the cell's training labels only): a fair choice;
//   largest-fg       keep the largest foreground component, always (nnU-Net's foreground step forced);
//   validation-rule  find-best's rule chosen on the cell's validation case, ties left to the prior (what
//                    a one-fold run does with an independent validation case). In bench/budget.mjs that
//                    case IS the held-out case, so this row is chosen on the case it is scored on:
//                    optimistic, an upper bound of what a one-fold run's validation could pick.
// Regions: brats = WT (1,2,3,4), TC (1,3,4), ET (4) (default when the labels are 0..4), else labels.
// One JSON line per row on stdout (and bench/out/postprocess-budget/rows.jsonl), then a table.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readImage, writeImage } from '../dist/src/io/image.js';
import { readDataset } from '../dist/src/dataset/read.js';
import { evaluateFolders } from '../dist/src/evaluate/folders.js';
import {
  applyPostprocessing,
  choosePostprocessingPrior,
  decidePostprocessing,
  postprocessingDice,
} from '../dist/src/postprocess/index.js';
import { describePostprocessing } from '../dist/src/infer/recipe.js';
import { predictedValues, writtenByRegions } from '../dist/src/labelmap/regions.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dataset: { type: 'string' },
    fold: { type: 'string', default: '0' },
    tolerance: { type: 'string' },
    regions: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    priors: { type: 'string' },
  },
});
const outDir = path.resolve('bench/out/postprocess-budget');
mkdirSync(outDir, { recursive: true });
const BRATS = [
  { name: 'WT', labels: [1, 2, 3, 4] },
  { name: 'TC', labels: [1, 3, 4] },
  { name: 'ET', labels: [4] },
];

/** A label map as [z, y, x] data with its shape (label values as stored, integers). */
async function labelMap(file) {
  const v = await readImage(file);
  const data = Int16Array.from(v.data, (x) => x * v.sclSlope + v.sclInter);
  return { vol: v, data, shape: [v.shape[2] ?? 1, v.shape[1], v.shape[0]] };
}

async function runCell(cell) {
  for (const f of ['plans.json', 'splits.json', 'prediction', 'reference'])
    if (!existsSync(path.join(cell, f)))
      throw new Error(`${cell}: no ${f} (not a finished bench/budget.mjs cell)`);
  const plans = JSON.parse(readFileSync(path.join(cell, 'plans.json'), 'utf8'));
  const splits = JSON.parse(readFileSync(path.join(cell, 'splits.json'), 'utf8'));
  const fold = splits[Number(values.fold)];
  if (!fold) throw new Error(`${cell}/splits.json: no fold ${values.fold}`);
  // a region-based model writes each region's value: choices compare references in those values
  const written = (m) => (plans.regions ? { ...m, data: writtenByRegions(m.data, plans.regions) } : m);
  const labels = predictedValues(plans);
  const bratsLike = plans.labelValues.join(',') === '0,1,2,3,4';
  const regionMode = values.regions ?? (bratsLike ? 'brats' : 'labels');
  const evalOpts = regionMode === 'brats' ? { labels: [], regions: BRATS } : { labels };
  const datasetDir =
    values.dataset ??
    [`Dataset-${plans.regions ? 'regions' : 'softmax'}`, 'Dataset']
      .map((d) => path.join(path.dirname(cell), d))
      .find((d) => existsSync(d));
  const dataset = await readDataset(datasetDir);
  const labelFile = new Map(dataset.training.map((c) => [c.id, c.label]));
  const predDir = path.join(cell, 'prediction');
  const refDir = path.join(cell, 'reference');

  // prior: the training labels of the fold only (never the held-out case)
  const train = fold.train.filter((id) => !fold.val.includes(id));
  const t0 = performance.now();
  const prior = choosePostprocessingPrior(
    await Promise.all(
      train.map(async (id) => {
        const m = written(await labelMap(labelFile.get(id)));
        return { label: m.data, shape: m.shape };
      }),
    ),
    { labels, tolerance: values.tolerance === undefined ? undefined : Number(values.tolerance) },
  );
  const priorSeconds = (performance.now() - t0) / 1000;
  // find-best's rule on the validation case(s) as predicted (= the held-out case in bench/budget.mjs)
  const rows = [];
  for (const id of fold.val) {
    const p = await labelMap(path.join(predDir, `${id}.nii.gz`));
    const r = written(await labelMap(path.join(refDir, `${id}.nii.gz`)));
    rows.push(postprocessingDice({ prediction: p.data, reference: r.data, shape: r.shape }, labels));
  }
  // as a one-fold run decides (src/evaluate/singleRunRecipe.ts): steps its cases tie on go to the prior
  const validation = decidePostprocessing(rows, labels, { onTie: prior.recipe });
  const variants = [
    ['none', null],
    ['prior', prior.recipe],
    ['largest-fg', { foreground: true, perLabel: {}, connectivity: 26 }],
    ['validation-rule (chosen on the held-out case)', validation],
  ];
  const out = [];
  for (const [name, recipe] of variants) {
    const read = async (file) => {
      const v = await readImage(file);
      if (!recipe || path.dirname(path.resolve(file)) !== path.resolve(predDir)) return v;
      const m = await labelMap(file);
      return {
        ...v,
        data: applyPostprocessing(m.data, m.shape, recipe),
        datatype: 'int16',
        sclSlope: 1,
        sclInter: 0,
      };
    };
    const report = await evaluateFolders({ predDir, refDir, read, ...evalOpts });
    const round = (x, d) =>
      x === null || x === undefined || !Number.isFinite(x) ? (x ?? null) : Number(x.toFixed(d));
    const row = {
      cell: path.basename(cell),
      postprocessing: name,
      steps: recipe ? describePostprocessing(recipe) : 'none',
      dice: Object.fromEntries(Object.entries(report.mean).map(([k, m]) => [k, round(m.dice, 3)])),
      hd95: Object.fromEntries(Object.entries(report.mean).map(([k, m]) => [k, round(m.hd95, 1)])),
      cases: report.cases.length,
      ...(name === 'prior' ? { why: prior.why, prior_s: Number(priorSeconds.toFixed(2)) } : {}),
    };
    out.push(row);
    appendFileSync(path.join(outDir, 'rows.jsonl'), `${JSON.stringify(row)}\n`);
    console.log(JSON.stringify(row));
  }
  return out;
}

/** A small BraTS-like cell: 4 cases, nested labels, a held-out prediction with far false positives. */
async function syntheticCell() {
  const root = path.join(outDir, 'synthetic');
  rmSync(root, { recursive: true, force: true });
  const ds = path.join(root, 'Dataset');
  const cell = path.join(root, 'case0_synthetic');
  for (const d of [
    path.join(ds, 'imagesTr'),
    path.join(ds, 'labelsTr'),
    path.join(cell, 'prediction'),
    path.join(cell, 'reference'),
  ])
    mkdirSync(d, { recursive: true });
  const [X, Y, Z] = [48, 48, 32];
  const affine = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  const vol = (data) => ({
    data,
    shape: [X, Y, Z],
    spacing: [1, 1, 1],
    affine,
    datatype: data instanceof Uint8Array ? 'uint8' : 'float32',
    sclSlope: 1,
    sclInter: 0,
  });
  // tumour k: oedema (2) ellipsoid, enhancing (4) shell, necrosis (1) core, a non-enhancing (3) slab
  const tumour = (cx, cy, cz, r) => {
    const m = new Uint8Array(X * Y * Z);
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          const d = Math.hypot((x - cx) / r, (y - cy) / r, (z - cz) / (0.7 * r));
          const i = (z * Y + y) * X + x;
          if (d < 0.35) m[i] = 1;
          else if (d < 0.55) m[i] = 4;
          else if (d < 0.6 && x > cx) m[i] = 3;
          else if (d < 1) m[i] = 2;
        }
    return m;
  };
  const ids = ['case0', 'case1', 'case2', 'case3'];
  const labels = ids.map((_, k) => tumour(20 + 2 * k, 22 + k, 15, 11 + k));
  for (const [k, id] of ids.entries()) {
    await writeImage(path.join(ds, 'labelsTr', `${id}.nii.gz`), vol(labels[k]));
    await writeImage(
      path.join(ds, 'imagesTr', `${id}_0000.nii.gz`),
      vol(Float32Array.from(labels[k], (v) => v)),
    );
  }
  writeFileSync(
    path.join(ds, 'dataset.json'),
    JSON.stringify({
      channel_names: { 0: 'FLAIR' },
      labels: { background: 0, necrosis: 1, oedema: 2, non_enhancing: 3, enhancing: 4 },
      numTraining: 4,
      file_ending: '.nii.gz',
    }),
  );
  // held out: case0, predicted a voxel off, with oedema and enhancing false positives far away
  const pred = tumour(21, 22, 15, 11);
  const box = (x0, y0, z0, n, v) => {
    for (let z = z0; z < z0 + n; z++)
      for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) pred[(z * Y + y) * X + x] = v;
  };
  box(40, 40, 24, 4, 2);
  box(2, 42, 2, 3, 4);
  await writeImage(path.join(cell, 'prediction', 'case0.nii.gz'), vol(pred));
  await writeImage(path.join(cell, 'reference', 'case0.nii.gz'), vol(labels[0]));
  writeFileSync(path.join(cell, 'splits.json'), JSON.stringify([{ train: ids.slice(1), val: ['case0'] }]));
  writeFileSync(path.join(cell, 'plans.json'), JSON.stringify({ labelValues: [0, 1, 2, 3, 4] }));
  return { cell, ds };
}

if (values.priors) {
  // leave-one-out: the prior of the other cases' label maps, as a cell holding that case out gets it
  const ds = await readDataset(values.priors);
  const maps = new Map();
  for (const c of ds.training) {
    const m = await labelMap(c.label);
    maps.set(c.id, { label: m.data, shape: m.shape });
  }
  const labels = [...new Set(ds.labels.flatMap((l) => l.values))]
    .filter((v) => v !== 0)
    .sort((a, b) => a - b);
  for (const held of maps.keys()) {
    const others = [...maps].filter(([id]) => id !== held).map(([, m]) => m);
    const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
    const c = choosePostprocessingPrior(others, { labels, tolerance });
    console.log(JSON.stringify({ held_out: held, steps: describePostprocessing(c.recipe), costs: c.costs }));
  }
  process.exit(0);
}
const cells = positionals.map((c) => path.resolve(c));
if (values.synthetic) {
  const { cell, ds } = await syntheticCell();
  values.dataset ??= ds;
  cells.push(cell);
}
if (!cells.length)
  throw new Error('give one or more cells (bench/out/budget/brats/<held>_<min>m_<plan>) or --synthetic');
const all = [];
for (const c of cells) all.push(...(await runCell(c)));
const keys = Object.keys(all[0]?.dice ?? {});
console.log(
  `\n| cell | post-processing | steps | ${keys.map((k) => `${k} Dice`).join(' | ')} | ${keys.map((k) => `${k} HD95 mm`).join(' | ')} |`,
);
console.log(`|---|---|---|${keys.map(() => '---|').join('')}${keys.map(() => '---|').join('')}`);
for (const r of all)
  console.log(
    `| ${r.cell} | ${r.postprocessing} | ${r.steps} | ${keys.map((k) => r.dice[k] ?? '-').join(' | ')} | ${keys.map((k) => r.hd95[k] ?? '-').join(' | ')} |`,
  );
