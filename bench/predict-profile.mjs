// Where one case's prediction time goes (issue 11: one BraTS case in ≤ 15 s, ≤ 100 s mirrored, 2 threads).
//   node bench/predict-profile.mjs [--case DIR] [--model DIR] [--threads 2] [--precision bf16|fp32]
//          [--mirror] [--windows 4] [--repeats 1] [--compare] [--skip-predict] [--zero-background]
//                                                                         (after npm run build)
// Times each stage of predict() on one whole case: reading (NIfTI decode), stacking channels,
// preprocessing (crop, normalisation, resampling), the sliding window around the network (window
// copies, Gaussian weighting, accumulation, flips: with a 1×1×1 convolution standing in for the
// network), softmax, resampling back / uncropping, argmax, writing. The network's forward passes are
// timed apart on `--windows` of the case's windows (batch 1 and 2), per window; `estimatedCase` is
// every stage once plus every window's forward pass. Then predict() itself end to end (unless
// --skip-predict). Wall and CPU seconds both: on a shared machine the CPU seconds are the steadier.
// --compare also times the previous release's sliding window (test/infer/slidingWindowBaseline.ts,
// the reference the tests compare against) on the same input in the same process: `speedup`.
// Without --model: a model folder with the 40-minute budget plan's network (patch 64×96×112, features
// 16…128 in 5 stages, 2 channels, 5 classes: the plan that `plan --budget 40m` chose for BraTS on
// the 2-core EPYC) and random weights (speed does not depend on the weights).
// Default case: MEDSEG_REAL_DATA/brats2013-deepmedic/brats_2013_pat0003_1 (240×240×155, FLAIR + T1c).
import { mkdirSync, rmSync, symlinkSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setThreads, manualSeed, tidy, noGrad, autocast, stack, randn, F } from '../dist/src/engine/index.js';
import { UNet, saveCheckpoint } from '../dist/src/nn/index.js';
import { candidateNetwork } from '../dist/src/plan/index.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { readPlans } from '../dist/src/plan/schema.js';
import { readImage, writeImage } from '../dist/src/io/image.js';
import {
  arraySpacing,
  channelsToTensor,
  argmaxLabelValues,
  labelsToVolume,
} from '../dist/src/grid/volumeTensor.js';
import { preprocessCase, revertProbabilities } from '../dist/src/preprocess/preprocessCase.js';
import { slidingWindowLogits, windowBoxes } from '../dist/src/infer/slidingWindow.js';
import { predict } from '../dist/src/infer/predict.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    precision: { type: 'string', default: 'bf16' },
    mirror: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '1' },
    'skip-predict': { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    windows: { type: 'string', default: '4' },
    'zero-background': { type: 'boolean', default: false },
  },
});
const data = process.env.MEDSEG_REAL_DATA ?? '../shared/data';
const caseDir = values.case ?? path.join(data, 'brats2013-deepmedic', 'brats_2013_pat0003_1');
const files = ['Flair_subtrMeanDivStd.nii.gz', 'T1c_subtrMeanDivStd.nii.gz'].map((f) =>
  path.join(caseDir, f),
);
for (const f of files) if (!existsSync(f)) throw new Error(`${f}: missing (--case a BraTS 2013 case folder)`);
const out = path.resolve('bench/out/predict-profile');
mkdirSync(out, { recursive: true });
const threads = Number(values.threads);
setThreads(threads);
const autocastDtype = values.precision === 'bf16' ? 'bfloat16' : null;

/** The 40-minute budget plan for BraTS (bench/RESULTS.md), random weights. */
async function budgetModel(dir) {
  const seed = {
    name: '3d_fullres',
    spacing: [1, 1, 1],
    medianShape: [155, 240, 240],
    patch: [64, 96, 112],
    batchSize: 2,
    batchDice: true,
    normalization: [{ scheme: 'zscore' }, { scheme: 'zscore' }],
    imageInterpolation: 'linear',
    labelInterpolation: 'linear',
    network: {
      architecture: 'plain',
      dims: 3,
      inputChannels: 2,
      numClasses: 5,
      features: [16],
      kernelSizes: [],
      strides: [],
      encoderBlocks: [2],
      decoderConvs: [2],
      deepSupervision: true,
    },
  };
  const { patch, network } = candidateNetwork(seed, [64, 96, 112], { base: 16, cap: 128 });
  const config = { ...seed, patch, network };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, '3d_fullres', 'fold_0'), { recursive: true });
  await writePlans(dir, {
    version: 1,
    dataset: 'BraTS2013-profile',
    axes: 'zyx',
    channelNames: ['FLAIR', 'T1c'],
    labelValues: [0, 1, 2, 3, 4],
    memoryGb: 8,
    lowresReason: 'profile: 3d_fullres only',
    configurations: { '3d_fullres': config },
  });
  manualSeed(0);
  const net = new UNet(network);
  await saveCheckpoint(path.join(dir, '3d_fullres', 'fold_0', 'checkpoint_best.safetensors'), net, null, {
    epoch: 0,
  });
  net.dispose();
  return dir;
}

const modelDir = values.model ?? (await budgetModel(path.join(out, 'model')));
const plans = await readPlans(path.join(modelDir, 'plans.json'));
const config = plans.configurations['3d_fullres'];
const K = plans.labelValues.length;
const net = new UNet({ ...config.network, deepSupervision: false });
const { loadCheckpoint } = await import('../dist/src/nn/index.js');
await loadCheckpoint(path.join(modelDir, '3d_fullres', 'fold_0', 'checkpoint_best.safetensors'), net);
net.eval();
const mirrorAxes = values.mirror ? [0, 1, 2] : [];

// wall seconds and CPU seconds (user + system, every thread of this process): on a shared machine
// the CPU seconds are the steadier measure of the work done (the wall time counts the other jobs too)
const stages = {};
const cpuStages = {};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const record = (name, t0, c0) => {
  (stages[name] ??= []).push((performance.now() - t0) / 1000);
  (cpuStages[name] ??= []).push(cpuSeconds() - c0);
  process.stderr.write(
    `${name}: ${stages[name].at(-1).toFixed(2)} s wall, ${cpuStages[name].at(-1).toFixed(2)} s CPU\n`,
  );
};
const time = (name, fn) => {
  const [t0, c0] = [performance.now(), cpuSeconds()];
  const r = fn();
  record(name, t0, c0);
  return r;
};
const timeAsync = async (name, fn) => {
  const [t0, c0] = [performance.now(), cpuSeconds()];
  const r = await fn();
  record(name, t0, c0);
  return r;
};

let baseline = null;
if (values.compare) {
  const m = await import('../dist/test/infer/slidingWindowBaseline.js');
  baseline = m.slidingWindowLogitsBaseline;
}

// A stand-in for the network: a 1×1×1 convolution, C → K channels. The sliding window around it
// (window copies, Gaussian weighting, accumulation, mirroring's flips) costs what it costs with the
// real network; the network's own forward passes are timed apart, on a sample of the windows.
manualSeed(1);
const standInWeight = randn([K, plans.channelNames.length, 1, 1, 1]).mul(0.1);
const standIn = { forward: (x) => F.conv(x, standInWeight) };

/**
 * --zero-background: the voxels where every channel holds its corner value (the DeepMedic copy of
 * BraTS 2013 is z-scored with a constant, non-zero background) set to 0, as the official BraTS
 * releases store them; the crop to the non-zero box then takes the brain's box, as nnU-Net's does.
 */
function zeroBackground(vols) {
  const data = vols.map((v) => v.data);
  const corner = data.map((d) => d[0]);
  let n = 0;
  for (let i = 0; i < data[0].length; i++)
    if (data.every((d, c) => d[i] === corner[c])) {
      for (const d of data) d[i] = 0;
      n++;
    }
  process.stderr.write(`zero background: ${n} of ${data[0].length} voxels\n`);
}

let windows = 0;
const passes = Math.max(1, 2 ** mirrorAxes.length);
for (let r = 0; r < Number(values.repeats); r++) {
  const vols = await timeAsync('read (NIfTI decode)', async () =>
    Promise.all(files.map((f) => readImage(f))),
  );
  if (values['zero-background']) zeroBackground(vols);
  const spacing = arraySpacing(vols[0]);
  const image = time('stack channels', () => channelsToTensor(vols));
  const pre = time('preprocess (crop, normalise, resample)', () =>
    preprocessCase(image, null, spacing, {
      targetSpacing: config.spacing,
      normalization: config.normalization,
      imageInterpolation: config.imageInterpolation,
      numClasses: K,
    }),
  );
  const swOptions = { patch: config.patch, numClasses: K, mirrorAxes, autocast: autocastDtype };
  const boxes = windowBoxes(pre.image.shape.slice(1), config.patch, 0.5);
  windows = boxes.length;
  if (baseline) {
    const old = time('sliding window without the network, previous release', () =>
      baseline(standIn, pre.image, swOptions),
    );
    old.dispose();
  }
  const logits = time('sliding window without the network', () =>
    slidingWindowLogits(standIn, pre.image, swOptions),
  );
  // the network on a sample of the windows (evenly spread), per window, at batch 1 and 2
  const sample = Array.from(
    { length: Number(values.windows) },
    (_, i) => boxes[Math.floor((i * boxes.length) / Number(values.windows))],
  );
  for (const batch of [1, 2]) {
    time(`forward per window, batch ${batch}`, () =>
      noGrad(() => {
        for (let b = 0; b < sample.length; b += batch)
          tidy(() => {
            const x = stack(
              sample
                .slice(b, b + batch)
                .map((box) => box.reduce((t, st, d) => t.narrow(d + 1, st, config.patch[d]), pre.image)),
              0,
            );
            for (let k = 0; k < passes; k++) autocast(autocastDtype, () => net.forward(x)).float();
          });
      }),
    );
    for (const t of [stages, cpuStages])
      t[`forward per window, batch ${batch}`].push(
        t[`forward per window, batch ${batch}`].pop() / sample.length,
      );
  }
  const probs = time('softmax', () => noGrad(() => tidy(() => F.softmax(logits, 0))));
  logits.dispose();
  const back = time('revert (resample back, uncrop)', () =>
    revertProbabilities(probs, pre.record, config.spacing),
  );
  probs.dispose();
  const labels = time('argmax', () => argmaxLabelValues(back, plans.labelValues));
  back.dispose();
  const labelVolume = time('label volume', () => labelsToVolume(labels, vols[0]));
  labels.dispose();
  await timeAsync('write (NIfTI encode)', () => writeImage(path.join(out, 'stages.nii.gz'), labelVolume));
  image.dispose();
  pre.image.dispose();
}

// predict() end to end on the same case
const input = path.join(out, 'input');
rmSync(input, { recursive: true, force: true });
mkdirSync(input);
files.forEach((f, c) => symlinkSync(path.resolve(f), path.join(input, `case_000${c}.nii.gz`)));
for (let r = 0; r < (values['skip-predict'] ? 0 : Number(values.repeats)); r++)
  await timeAsync('predict() end to end', () =>
    predict({
      input,
      output: path.join(out, 'pred'),
      modelDir,
      config: '3d_fullres',
      mirror: values.mirror,
      autocast: autocastDtype,
      threads,
    }),
  );

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
// the whole case, estimated: every stage once, the network over every window (× mirrored passes)
const estimate = (t) => {
  const fixed = Object.entries(t)
    .filter(
      ([k]) => !k.startsWith('forward') && !k.includes('previous release') && !k.startsWith('predict()'),
    )
    .reduce((a, [, v]) => a + median(v), 0);
  return Number((fixed + windows * median(t['forward per window, batch 2'])).toFixed(1));
};
const row = {
  case: caseDir,
  patch: config.patch,
  features: config.network.features,
  windows,
  threads,
  precision: values.precision,
  mirror: values.mirror,
  zeroBackground: values['zero-background'],
  load: os.loadavg().map((l) => Number(l.toFixed(1))),
  seconds: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Number(median(v).toFixed(2))])),
  estimatedCase: { wall: estimate(stages), cpu: estimate(cpuStages) },
  cpuSeconds: Object.fromEntries(
    Object.entries(cpuStages).map(([k, v]) => [k, Number(median(v).toFixed(2))]),
  ),
};
if (stages['sliding window without the network, previous release']) {
  const ratio = (t) =>
    Number(
      (
        median(t['sliding window without the network, previous release']) /
        median(t['sliding window without the network'])
      ).toFixed(2),
    );
  row.speedup = { wall: ratio(stages), cpu: ratio(cpuStages) };
}
console.log(JSON.stringify(row, null, 1));
writeFileSync(path.join(out, `profile-${Date.now()}.json`), JSON.stringify(row, null, 1));
