// Which task the next batch comes from: probability ∝ cases^α (α = 0.5 by default), so a task with
// 100 cases is drawn 10× as often as one with 1 case rather than 100× (small tasks are not drowned)
// and still more often than under uniform sampling (α = 0 would over-fit the small ones).
import { Rng, hashSeed } from '../common/random.js';

export const DEFAULT_ALPHA = 0.5;

/** P(task i) = n_i^α / Σ_j n_j^α. */
export function taskProbabilities(cases: number[], alpha = DEFAULT_ALPHA): number[] {
  if (!cases.length) throw new Error('no task to sample from');
  for (const n of cases) if (!(n > 0)) throw new Error(`every task needs ≥ 1 training case (got ${n})`);
  if (!(alpha >= 0)) throw new Error(`alpha must be ≥ 0, got ${alpha}`);
  const w = cases.map((n) => n ** alpha);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** The task of global step `step`: a pure function of (seed, step), so a run draws the same order. */
export function taskOfStep(probabilities: number[], seed: number, step: number): number {
  const u = new Rng(hashSeed('medseg-task', seed, step)).next();
  let acc = 0;
  for (let i = 0; i < probabilities.length; i++) {
    acc += probabilities[i]!;
    if (u < acc) return i;
  }
  return probabilities.length - 1;
}
