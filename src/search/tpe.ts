// The tree-structured Parzen estimator (Bergstra et al. 2011), per parameter: the finished trials
// are split at the γ-quantile of their values into good and bad; l(x) and g(x) are Parzen
// densities over each group (numeric parameters in the unit interval, log ranges in log space;
// categories as smoothed frequencies); n candidates are drawn from l and the one with the largest
// l(x)/g(x) — which maximises expected improvement under the model — is proposed. The first
// `startup` trials are random.
import type { Rng } from '../common/random.js';
import { RandomSampler, randomParams, type Observation, type Sampler } from './sampler.js';
import { fromUnit, toUnit, type ParamValue, type Params, type Space } from './space.js';
import { SmoothedCategorical, TruncatedMixture } from './parzen.js';

export interface TpeOptions {
  /** Random trials before the model is used (default 10). */
  startup?: number;
  /** Fraction of the trials that count as good (default 0.25, at most 25 trials). */
  gamma?: number;
  /** Candidates drawn from l(x) per proposal (default 24). */
  candidates?: number;
  /** Weight of the prior component of each density (default 1). */
  priorWeight?: number;
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  private readonly o: Required<TpeOptions>;
  private readonly random = new RandomSampler();

  constructor(o: TpeOptions = {}) {
    this.o = { startup: 10, gamma: 0.25, candidates: 24, priorWeight: 1, ...o };
  }

  sample(space: Space, history: readonly Observation[], rng: Rng): Params {
    const usable = history.filter((h) => Number.isFinite(h.value));
    if (usable.length < this.o.startup) return this.random.sample(space, history, rng);
    // complete trials rank above pruned ones (a pruned trial's value is a lower fidelity)
    const ranked = [...usable].sort((a, b) =>
      a.state !== b.state ? (a.state === 'complete' ? -1 : 1) : b.value - a.value,
    );
    const nGood = Math.min(25, Math.max(1, Math.ceil(this.o.gamma * ranked.length)));
    const good = ranked.slice(0, nGood);
    const bad = ranked.slice(nGood);
    const names = Object.keys(space);
    type Model = { l: TruncatedMixture | SmoothedCategorical; g: TruncatedMixture | SmoothedCategorical };
    const models = new Map<string, Model>();
    for (const name of names) {
      const d = space[name]!;
      // a trial from an older space may lack the parameter or hold a value outside it: left out
      if (d.type === 'choice') {
        const idx = (obs: Observation[]) =>
          obs.map((o) => d.values.indexOf(o.params[name] as ParamValue)).filter((i) => i >= 0);
        models.set(name, {
          l: new SmoothedCategorical(idx(good), d.values.length, this.o.priorWeight),
          g: new SmoothedCategorical(idx(bad), d.values.length, this.o.priorWeight),
        });
      } else {
        const unit = (obs: Observation[]) =>
          obs
            .map((o) => o.params[name])
            .filter((v): v is number => typeof v === 'number' && v >= d.low && v <= d.high)
            .map((v) => toUnit(d, v));
        models.set(name, {
          l: new TruncatedMixture(unit(good), this.o.priorWeight),
          g: new TruncatedMixture(unit(bad), this.o.priorWeight),
        });
      }
    }
    let best: Params | null = null;
    let bestScore = -Infinity;
    for (let c = 0; c < this.o.candidates; c++) {
      const params: Params = {};
      let score = 0;
      for (const name of names) {
        const d = space[name]!;
        const m = models.get(name)!;
        const x = m.l.sample(rng);
        score += m.l.logPdf(x) - m.g.logPdf(x);
        params[name] = d.type === 'choice' ? d.values[x]! : fromUnit(d, x);
      }
      if (score > bestScore) {
        bestScore = score;
        best = params;
      }
    }
    return best ?? randomParams(space, rng);
  }
}

export function makeSampler(name: string, o: TpeOptions = {}): Sampler {
  if (name === 'tpe') return new TpeSampler(o);
  if (name === 'random') return new RandomSampler();
  throw new Error(`unknown sampler '${name}' (tpe or random)`);
}
