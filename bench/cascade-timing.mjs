// Seconds to predict one case with each configuration of a model trained by bench/cascade.mjs
// (fold 0 alone; a cascade includes its stage 1), in alternating rounds, median of the rounds.
//   node bench/cascade-timing.mjs [task = spleen] [rounds = 3] [threads = 2]   (after bench/cascade.mjs)
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { predict } from '../dist/src/infer/predict.js';

const task = process.argv[2] ?? 'spleen';
const rounds = Number(process.argv[3] ?? 3);
const threads = Number(process.argv[4] ?? 2);
const work = path.resolve('bench/out/cascade', task);
const images = path.join(
  work,
  readdirSync(work).find((d) => d.startsWith('Dataset')),
  'imagesTr',
);
const input = path.join(images, readdirSync(images).sort()[0]);
const configs = ['3d_fullres', '3d_lowres', '3d_cascade_prior', '3d_cascade_crop'];
const times = Object.fromEntries(configs.map((c) => [c, []]));
for (let r = 0; r < rounds; r++) {
  for (const config of configs) {
    const t = performance.now();
    await predict({
      input,
      output: path.join(work, `timing_${config}.nii.gz`),
      modelDir: path.join(work, 'model'),
      config,
      folds: [0],
      threads,
    });
    times[config].push((performance.now() - t) / 1000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  JSON.stringify({
    task,
    input: path.basename(input),
    threads,
    seconds: Object.fromEntries(configs.map((c) => [c, Number(median(times[c]).toFixed(2))])),
    rounds: times,
  }),
);
