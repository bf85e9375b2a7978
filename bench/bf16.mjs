// bf16 autocast against float32 at equal steps: the same synthetic task, plan, seeds and number of
// steps, trained twice (fold 0), then its validation cases predicted and evaluated. Decides whether
// bf16 may be the default on CPUs with native bf16 (src/plan/cpu.ts): Dice at equal steps and at equal
// time, and the step time.
//   node bench/bf16.mjs [--task hippocampus] [--epochs 10] [--iters 20] [--size small] [--repeats 1]
//                       [--bf16-epochs N]   (after npm run build)
// --bf16-epochs adds a third arm: bf16 trained N epochs, so that it can be compared with fp32 at equal
// time (N ≈ epochs × fp32's step time / bf16's), which is what a budgeted run gets.
// The two precisions run alternately in one process, so a shared machine's load falls on both.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { plan } from '../dist/src/plan/run.js';
import { writePlans } from '../dist/src/plan/planner.js';
import { thisCpu, hasNativeBf16 } from '../dist/src/plan/cpu.js';
import { findTask, writeSynthDataset } from '../dist/src/synth/index.js';
import { train } from '../dist/src/crossval/train.js';
import { evaluateFolders } from '../dist/src/evaluate/folders.js';
import { validationDir } from '../dist/src/train/outOfFold.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'hippocampus' },
    size: { type: 'string', default: 'small' },
    epochs: { type: 'string', default: '10' },
    iters: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '1' },
    'bf16-epochs': { type: 'string' },
  },
});
const out = path.resolve('bench/out/bf16');
rmSync(path.join(out, 'data'), { recursive: true, force: true });
const { dir: dataset } = await writeSynthDataset(findTask(values.task), path.join(out, 'data'), {
  seed: 0,
  size: values.size,
  cases: 10,
});
console.error(
  `CPU ${thisCpu().model}, native bf16: ${hasNativeBf16(thisCpu().flags)}, load ${os.loadavg()[0].toFixed(1)}`,
);
const arms = [
  { name: 'fp32', bf16: false, epochs: Number(values.epochs) },
  { name: 'bf16', bf16: true, epochs: Number(values.epochs) },
];
if (values['bf16-epochs'] !== undefined) {
  arms.push({ name: `bf16_${values['bf16-epochs']}ep`, bf16: true, epochs: Number(values['bf16-epochs']) });
}
const rows = [];
for (let rep = 0; rep < Number(values.repeats); rep++) {
  for (const { name, bf16, epochs } of arms) {
    const model = path.join(out, `${name}_${rep}`);
    rmSync(model, { recursive: true, force: true });
    const { plans } = await plan(dataset, model, { memoryGb: 2 });
    const c = plans.configurations['3d_fullres'];
    c.network.features = c.network.features.map((_, i) => Math.min(16 * 2 ** i, 128));
    await writePlans(model, plans);
    const t0 = performance.now();
    const r = await train({
      dataset,
      modelDir: model,
      fold: 0,
      epochs,
      itersPerEpoch: Number(values.iters),
      optimizer: 'adamw',
      initialLr: 3e-3,
      bf16,
      seed: rep,
      validationCheckpoint: 'latest', // the scored cases must not choose the weights
      log: (s) => process.stderr.write(`[${name}] ${s}\n`),
    });
    const trainS = (performance.now() - t0) / 1000;
    const epochS = r.history.map((h) => h.seconds).sort((a, b) => a - b);
    const val = validationDir(model, '3d_fullres', 0);
    const predDir = path.join(model, 'prediction');
    const refDir = path.join(model, 'reference');
    mkdirSync(predDir, { recursive: true });
    mkdirSync(refDir, { recursive: true });
    for (const f of readdirSync(val).filter((f) => f.endsWith('.nii.gz') && !f.includes('_probabilities'))) {
      copyFileSync(path.join(val, f), path.join(predDir, f));
      copyFileSync(path.join(dataset, 'labelsTr', f), path.join(refDir, f));
    }
    const report = await evaluateFolders({ predDir, refDir });
    const row = {
      precision: name,
      repeat: rep,
      patch: c.patch.join('x'),
      steps: r.history.length * Number(values.iters),
      median_s_per_step: Number((epochS[epochS.length >> 1] / Number(values.iters)).toFixed(3)),
      dice: Object.fromEntries(
        Object.entries(report.mean).map(([k, m]) => [k, m.dice === null ? null : Number(m.dice.toFixed(3))]),
      ),
      final_loss: Number(r.history.at(-1).train_loss.toFixed(4)),
      train_s: Math.round(trainS),
      load: Number(os.loadavg()[0].toFixed(1)),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
