// Data-parallel throughput: the trainer's step (train/step.ts) on nnU-Net's 3d_fullres UNet for a
// 32³ patch, 1 rank against N ranks over Gloo on loopback (ranks launched as by `medseg train
// --nproc`). Each rank trains on its own batch of B; the step's samples are N × B. Per world size:
// warm-up steps, then the mean step time, samples per second, and the share of the step spent in
// the gradient all-reduce (bucketed, 25 MiB). Threads per rank: cores / N (at least 1), so every
// run uses the same cores; or [threads] per rank for all (1: each rank's compute is the same, so the
// ratio of samples/s measures the data-parallel overhead rather than OpenMP's scaling).
//   node bench/ddp.mjs [ranks = 1,2] [steps = 8] [batch = 2] [patch = 32] [threads]   (after npm run build)
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, randn, randint, setThreads, keep } from '../dist/src/engine/index.js';
import { SGD } from '../dist/src/optim/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../dist/src/nn/index.js';
import { trainOnBatch } from '../dist/src/train/step.js';
import {
  joinFromEnv,
  allReduceGradients,
  broadcastParameters,
  launchLocalRanks,
} from '../dist/src/distributed/index.js';

const [ranksArg = '1,2', stepsArg = '8', batchArg = '2', patchArg = '32', threadsArg] = process.argv.slice(2);
const steps = Number(stepsArg);
const batch = Number(batchArg);
const patch = Number(patchArg);
const warmup = 2;

async function rank() {
  const group = joinFromEnv({ timeoutSeconds: 600 });
  const world = group?.worldSize ?? 1;
  const threads = threadsArg
    ? Number(threadsArg)
    : Math.max(1, Math.floor(os.availableParallelism() / world));
  setThreads(threads);
  manualSeed(0);
  const net = new UNet(defaultPlainSpec([patch, patch, patch], 1, 3));
  if (group) broadcastParameters(group, net.parameters());
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  let syncSeconds = 0;
  const parts = {
    forward: (x) => net.forwardAll(x),
    loss: deepSupervisionLoss,
    opt,
    precision: null,
    lrAt: () => 0.01,
    syncGrads: group
      ? (params) => {
          const t = performance.now();
          allReduceGradients(group, params);
          syncSeconds += (performance.now() - t) / 1000;
        }
      : undefined,
  };
  manualSeed(100 + (group?.rank ?? 0));
  const b = {
    x: keep(randn([batch, 1, patch, patch, patch])),
    y: keep(randint(0, 3, [batch, patch, patch, patch])),
  };
  let t0 = 0;
  for (let s = 0; s < warmup + steps; s++) {
    if (s === warmup) {
      t0 = performance.now();
      syncSeconds = 0;
    }
    trainOnBatch(parts, s, b);
  }
  const perStep = (performance.now() - t0) / 1000 / steps;
  if ((group?.rank ?? 0) === 0) {
    const r = {
      ranks: world,
      threadsPerRank: threads,
      parameters: net.numParameters(),
      secondsPerStep: +perStep.toFixed(3),
      samplesPerSecond: +((world * batch) / perStep).toFixed(3),
      allReduceShare: +(syncSeconds / steps / perStep).toFixed(3),
    };
    (await import('node:fs')).writeFileSync(process.env.MEDSEG_BENCH_OUT, JSON.stringify(r));
  }
  group?.close();
}

if (process.env.MEDSEG_BENCH_OUT) {
  await rank();
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-bench-ddp-'));
  const self = fileURLToPath(import.meta.url);
  console.log(
    `${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)}; patch ${patch}³, batch ${batch} per rank, ${steps} timed steps`,
  );
  for (const n of ranksArg.split(',').map(Number)) {
    const out = path.join(dir, `ranks${n}.json`);
    const env = { MEDSEG_BENCH_OUT: out };
    // one rank is a group of one: the same process, no all-reduce (allReduceGradients returns at once)
    const code = await launchLocalRanks({ nproc: n, script: self, args: process.argv.slice(2), env });
    if (code !== 0) throw new Error(`${n} rank(s) failed with exit code ${code}`);
    console.log(JSON.stringify(JSON.parse(readFileSync(out, 'utf8'))));
  }
}
