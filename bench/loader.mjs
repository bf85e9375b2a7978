// Training-step time with batches made in the main thread (workers: 0) against batches made ahead
// in worker threads, on the demo's task (synthetic hippocampus, the demo's plan edit for a 2-core
// CPU: half the features, AdamW). Per configuration: warm-up steps, then the mean over timed steps
// of the whole iteration (wait for data + forward + backward + optimizer step), 3 alternating
// rounds per configuration and the median round; next to them the data time alone (makeBatch in
// this thread) and the step alone (one fixed batch).
//   node bench/loader.mjs [size = small] [steps = 10] [workers = 1] [threads = all cores]   (after npm run build)
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTask, writeSynthDataset } from '../dist/src/synth/index.js';
import { plan } from '../dist/src/plan/run.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { prepare } from '../dist/src/train/prepare.js';
import { BatchLoader, makeBatch, batchTensors } from '../dist/src/train/loader.js';
import { UNet, deepSupervisionLoss } from '../dist/src/nn/index.js';
import { AdamW } from '../dist/src/optim/index.js';
import { setThreads, manualSeed, tidy, engineInfo } from '../dist/src/engine/index.js';

const size = process.argv[2] ?? 'small';
const steps = Number(process.argv[3] ?? 10);
const workers = Number(process.argv[4] ?? 1);
const warmup = 3;
const root = path.resolve(`bench/out/loader-${size}`);
const modelDir = path.join(root, 'model');

const threadsArg = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
setThreads(threadsArg);
manualSeed(0);
if (!existsSync(path.join(modelDir, 'plans.json'))) {
  const data = await writeSynthDataset(findTask('hippocampus'), path.join(root, 'data'), {
    seed: 0,
    size,
    cases: 10,
  });
  const planned = await plan(data.dir, modelDir, { memoryGb: 2 });
  const c = planned.plans.configurations['3d_fullres'];
  c.network.features = c.network.features.map((_, i) => Math.min(16 * 2 ** i, 128));
  await writePlans(modelDir, planned.plans);
}
const datasetDir = path.join(root, 'data', (await import('node:fs')).readdirSync(path.join(root, 'data'))[0]);
const p = await prepare(datasetDir, modelDir, '3d_fullres', { memoryGb: 2 });
const spec = {
  dir: p.preprocessedDir,
  cases: p.cases,
  patch: p.config.patch,
  batchSize: p.config.batchSize,
  seed: 0,
  imageChannels: p.plans.channelNames.length,
};
const net = new UNet(p.config.network);
const opt = new AdamW(net.parameters(), { lr: 3e-3, weightDecay: 3e-5 });
const step = (x, y) =>
  tidy(() => {
    const l = deepSupervisionLoss(net.forwardAll(x), y);
    opt.zeroGrad();
    l.backward();
    opt.step();
    return l.item();
  });
const ms = (t) => performance.now() - t;

// data alone, and the step alone on one fixed batch
let t = performance.now();
for (let s = 0; s < 5; s++) makeBatch(spec, 1000 + s);
const dataMs = ms(t) / 5;
const fixed = batchTensors(makeBatch(spec, 0));
for (let s = 0; s < warmup; s++) step(fixed.x, fixed.y);
t = performance.now();
for (let s = 0; s < steps; s++) step(fixed.x, fixed.y);
const stepMs = ms(t) / steps;
fixed.x.dispose();
fixed.y.dispose();

async function iterations(w) {
  const loader = new BatchLoader({ ...spec, workers: w });
  await loader.ready();
  let waitMs = 0;
  let t0 = 0;
  for (let s = 0; s < warmup + steps; s++) {
    if (s === warmup) {
      t0 = performance.now();
      waitMs = 0;
    }
    const tw = performance.now();
    const b = await loader.next(s);
    waitMs += ms(tw);
    step(b.x, b.y);
    b.x.dispose();
    b.y.dispose();
  }
  const total = ms(t0) / steps;
  await loader.close();
  return { iter_ms: +total.toFixed(1), data_wait_ms: +(waitMs / steps).toFixed(1) };
}
// alternating rounds, the median of each mode: the machine's load changes less between neighbours
const rounds = { in: [], w: [] };
for (let r = 0; r < 3; r++) {
  rounds.in.push(await iterations(0));
  rounds.w.push(await iterations(workers));
}
const median = (rs) => [...rs].sort((a, b) => a.iter_ms - b.iter_ms)[Math.floor(rs.length / 2)];
const inThread = median(rounds.in);
const inWorkers = median(rounds.w);
console.log(
  JSON.stringify({
    size,
    patch: p.config.patch,
    batch: p.config.batchSize,
    features: p.config.network.features,
    cores: os.availableParallelism(),
    threads: engineInfo().threads,
    steps,
    data_ms: +dataMs.toFixed(1),
    step_ms: +stepMs.toFixed(1),
    in_thread: inThread,
    [`workers_${workers}`]: inWorkers,
    rounds_iter_ms: { in_thread: rounds.in.map((r) => r.iter_ms), workers: rounds.w.map((r) => r.iter_ms) },
    speedup: +(inThread.iter_ms / inWorkers.iter_ms).toFixed(2),
  }),
);
net.dispose();
opt.dispose();
