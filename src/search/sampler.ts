// A sampler proposes the next trial's parameters from the trials so far. Every sampler maximises
// (the objective of a medseg trial is a Dice); benchmarks that minimise pass the negated value.
import { Rng } from '../common/random.js';
import { fromUnit, type Params, type Space } from './space.js';

/** A finished trial as samplers see it. Pruned trials carry the best value they reached. */
export interface Observation {
  params: Params;
  value: number;
  state: 'complete' | 'pruned';
}

export interface Sampler {
  readonly name: 'random' | 'tpe';
  sample(space: Space, history: readonly Observation[], rng: Rng): Params;
}

/** Independent uniform draws (log ranges uniform in log space; int ranges: every integer alike). */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  sample(space: Space, _history: readonly Observation[], rng: Rng): Params {
    return randomParams(space, rng);
  }
}

export function randomParams(space: Space, rng: Rng): Params {
  const out: Params = {};
  for (const [name, d] of Object.entries(space)) {
    out[name] =
      d.type === 'choice' ? d.values[Math.floor(rng.next() * d.values.length)]! : fromUnit(d, rng.next());
  }
  return out;
}
