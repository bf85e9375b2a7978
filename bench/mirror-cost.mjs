// What mirroring costs at prediction on this machine (issue 11: its default per device).
//   node bench/mirror-cost.mjs [--model DIR --input IMAGE] [--config 3d_fullres] [--repeats 3]
//                              [--threads N] [--device cpu]          (after npm run build)
// Predicts one case with and without mirroring, alternately (so that a shared machine's load falls
// on both alike), `repeats` times each; prints the median seconds of each and their ratio. Without
// --model: a synthetic hippocampus (small) with a tiny trained 3d_fullres (weights do not change the
// time). For the case: --model a BraTS model folder, --input one 240×240×155 2-channel case
// (a folder with CASE_0000/0001.nii.gz).
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSynthDataset, findTask } from '../dist/src/synth/index.js';
import { plan } from '../dist/src/plan/run.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { train } from '../dist/src/crossval/train.js';
import { predict } from '../dist/src/infer/predict.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    config: { type: 'string', default: '3d_fullres' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    device: { type: 'string', default: 'cpu' },
  },
});
const out = path.resolve('bench/out/mirror-cost');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const threads = Number(values.threads);
let model = values.model;
let input = values.input;
if (!model) {
  const { dir } = await writeSynthDataset(findTask('hippocampus'), path.join(out, 'data'), {
    seed: 0,
    size: 'small',
    cases: 3,
  });
  model = path.join(out, 'model');
  const { plans } = await plan(dir, model, { memoryGb: 2 });
  await writePlans(model, plans);
  await train({
    dataset: dir,
    modelDir: model,
    config: '3d_fullres',
    fold: 0,
    epochs: 1,
    itersPerEpoch: 1,
    threads,
    validate: false,
  });
  input = path.join(dir, 'imagesTr', 'hippocampus_000_0000.nii.gz');
}
if (!input) throw new Error('--input is required with --model');
const times = { off: [], on: [] };
for (let r = 0; r < Number(values.repeats); r++) {
  for (const mode of ['off', 'on']) {
    const t0 = performance.now();
    await predict({
      input,
      output: path.join(out, `pred_${mode}`),
      modelDir: model,
      config: values.config,
      mirror: mode === 'on',
      device: values.device,
      threads,
    });
    times[mode].push((performance.now() - t0) / 1000);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const row = {
  model,
  input,
  config: values.config,
  device: values.device,
  threads,
  s_off: times.off.map((t) => Number(t.toFixed(2))),
  s_on: times.on.map((t) => Number(t.toFixed(2))),
  median_off: Number(median(times.off).toFixed(2)),
  median_on: Number(median(times.on).toFixed(2)),
  ratio: Number((median(times.on) / median(times.off)).toFixed(2)),
  machine: `${os.cpus()[0]?.model} ×${os.availableParallelism()}, load ${os.loadavg()[0].toFixed(1)}`,
};
console.log(JSON.stringify(row));
