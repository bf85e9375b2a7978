// TPE vs random search on Branin and Hartmann-6: median (and quartiles of) regret over 20 seeds at
// several trial counts. Pure TypeScript (no libtorch). Run after `npm run build`:
//   node bench/search-samplers.mjs [--seeds 20]
import { TEST_FUNCTIONS } from '../dist/src/search/functions.js';
import { medianRegret } from '../dist/src/search/regret.js';
import { RandomSampler } from '../dist/src/search/sampler.js';
import { TpeSampler } from '../dist/src/search/tpe.js';

const seeds = Number(process.argv[process.argv.indexOf('--seeds') + 1] || 20) || 20;
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
for (const [name, counts] of [
  ['branin', [20, 50, 100]],
  ['hartmann6', [40, 80, 150]],
]) {
  for (const trials of counts) {
    const row = { function: name, trials, seeds };
    for (const s of [new RandomSampler(), new TpeSampler()]) {
      const t0 = performance.now();
      const r = medianRegret(TEST_FUNCTIONS[name], s, trials, seeds);
      row[s.name] = {
        median: +r.median.toPrecision(3),
        q25: +q(r.regrets, 0.25).toPrecision(3),
        q75: +q(r.regrets, 0.75).toPrecision(3),
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
      };
    }
    console.log(JSON.stringify(row));
  }
}
