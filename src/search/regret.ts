// Sampler comparison on the standard functions: the regret (best value found − global minimum)
// after a fixed number of trials, over independent seeds. Pure TypeScript, no storage, so the test
// and bench/search-samplers.mjs run it in seconds.
import { Rng, hashSeed } from '../common/random.js';
import type { Observation, Sampler } from './sampler.js';
import type { TestFunction } from './functions.js';

/** Regret of one sequential run (the sampler maximises −f). */
export function runRegret(fn: TestFunction, sampler: Sampler, trials: number, seed: number): number {
  const rng = new Rng(hashSeed('regret', sampler.name, seed));
  const history: Observation[] = [];
  let best = Infinity;
  for (let t = 0; t < trials; t++) {
    const params = sampler.sample(fn.space, history, rng);
    const y = fn.f(params);
    best = Math.min(best, y);
    history.push({ params, value: -y, state: 'complete' });
  }
  return best - fn.minimum;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Regrets over seeds 0 … seeds−1, and their median. */
export function medianRegret(
  fn: TestFunction,
  sampler: Sampler,
  trials: number,
  seeds: number,
): { median: number; regrets: number[] } {
  const regrets = Array.from({ length: seeds }, (_, s) => runRegret(fn, sampler, trials, s));
  return { median: median(regrets), regrets };
}
