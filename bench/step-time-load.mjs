// How a training step's timing reads on a busy machine: wall time, CPU time per thread, and the
// idle-equivalent seconds the planner's calibration uses (src/plan/calibrate.ts idleEquivalentSeconds).
// Times one network (bf16 where the CPU has it, 2 threads) with 0, 1 and 3 busy-loop processes beside
// it. Run it on an otherwise idle machine:
//   npm run build && node bench/step-time-load.mjs [--patch 64x80x80] [--threads 2] [--steps 3]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { engineInfo, setThreads } from '../dist/src/engine/index.js';
import {
  idleEquivalentSeconds,
  planTopology,
  defaultBf16,
  timeTrainingSteps,
} from '../dist/src/plan/index.js';

const { values } = parseArgs({
  options: {
    patch: { type: 'string', default: '64x80x80' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
  },
});
const patchWanted = values.patch.split('x').map(Number);
const threads = Number(values.threads);
setThreads(threads);
const topo = planTopology(patchWanted, [1, 1, 1], 5);
const n = topo.strides.length;
const spec = {
  architecture: 'plain',
  dims: 3,
  inputChannels: 2,
  numClasses: 3,
  features: Array.from({ length: n }, (_, i) => Math.min(16 * 2 ** i, 128)),
  kernelSizes: topo.kernelSizes,
  strides: topo.strides,
  encoderBlocks: new Array(n).fill(2),
  decoderConvs: new Array(n - 1).fill(2),
  deepSupervision: true,
};
const bf16 = defaultBf16();

/** The fastest of the timed steps: wall time, CPU time per thread, idle-equivalent seconds. */
function timeSteps() {
  const rows = timeTrainingSteps(spec, topo.patch, 2, bf16 ? 'bf16' : 'fp32', Number(values.steps));
  const min = (f) => Math.min(...rows.map(f));
  return {
    wall: min((r) => r.wallSeconds),
    perThread: min((r) => r.cpuSeconds / r.threads),
    idle: min((r) => idleEquivalentSeconds(r.wallSeconds, r.cpuSeconds, r.threads)),
  };
}

console.log(
  `${os.cpus()[0]?.model} ×${os.availableParallelism()}, libtorch ${engineInfo().torchVersion}, ` +
    `patch ${topo.patch.join('x')}, features ${spec.features.join('-')}, batch 2, ${bf16 ? 'bf16' : 'fp32'}, ${threads} threads`,
);
console.log('| busy processes beside | wall s/step | CPU s/step per thread | idle-equivalent s/step |');
console.log('|---|---|---|---|');
let base = null;
for (const busy of [0, 1, 3]) {
  const loops = Array.from({ length: busy }, () =>
    spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const t = timeSteps();
  for (const l of loops) l.kill();
  base ??= t;
  const ratio = (v, b) => `${v.toFixed(2)} (${(v / b).toFixed(2)}×)`;
  console.log(
    `| ${busy} | ${ratio(t.wall, base.wall)} | ${ratio(t.perThread, base.perThread)} | ${ratio(t.idle, base.idle)} |`,
  );
}
