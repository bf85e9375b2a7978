// The densities TPE compares: a mixture of Gaussians truncated to [0, 1] (one at each observed
// point plus a broad prior component) for numeric parameters, and smoothed category frequencies.
import type { Rng } from '../common/random.js';

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erf, Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7: ample for acquisition ratios). */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}

const normCdf = (z: number): number => 0.5 * (1 + erf(z / SQRT2));

/** A mixture of Gaussians truncated to [0, 1]. */
export class TruncatedMixture {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
  private readonly logMass: number[];

  /**
   * points in [0, 1]; bandwidths by the distance to the farther neighbour (hyperopt's rule: dense
   * clusters of good points give narrow kernels), clipped to [1 / min(100, n + 1), 1]; plus a
   * prior component N(0.5, 1) of weight priorWeight so unexplored regions keep some density.
   */
  constructor(points: readonly number[], priorWeight = 1) {
    const n = points.length;
    const order = [...points.keys()].sort((a, b) => points[a]! - points[b]!);
    const sorted = order.map((i) => points[i]!);
    const sig = new Array<number>(n);
    const minSig = 1 / Math.min(100, n + 1);
    sorted.forEach((x, k) => {
      const left = k > 0 ? sorted[k - 1]! : 0;
      const right = k < n - 1 ? sorted[k + 1]! : 1;
      sig[order[k]!] = Math.min(1, Math.max(minSig, x - left, right - x));
    });
    this.mus = [...points, 0.5];
    this.sigmas = [...sig, 1];
    const total = n + priorWeight;
    this.weights = [...new Array<number>(n).fill(1 / total), priorWeight / total];
    this.logMass = this.mus.map((m, i) =>
      Math.log(Math.max(1e-300, normCdf((1 - m) / this.sigmas[i]!) - normCdf((0 - m) / this.sigmas[i]!))),
    );
  }

  sample(rng: Rng): number {
    let u = rng.next();
    let k = 0;
    while (k < this.weights.length - 1 && u >= this.weights[k]!) u -= this.weights[k++]!;
    const mu = this.mus[k]!;
    const s = this.sigmas[k]!;
    // rejection from the component's normal (the truncated mass is ≥ ~0.3 for every component)
    for (let i = 0; i < 1000; i++) {
      const x = mu + s * rng.normal();
      if (x >= 0 && x <= 1) return x;
    }
    return Math.min(1, Math.max(0, mu));
  }

  logPdf(x: number): number {
    let max = -Infinity;
    const terms = this.mus.map((m, i) => {
      const z = (x - m) / this.sigmas[i]!;
      const t =
        Math.log(this.weights[i]!) -
        0.5 * z * z -
        LOG_SQRT_2PI -
        Math.log(this.sigmas[i]!) -
        this.logMass[i]!;
      if (t > max) max = t;
      return t;
    });
    return max + Math.log(terms.reduce((a, t) => a + Math.exp(t - max), 0));
  }
}

/** Category probabilities: counts plus priorWeight spread evenly over the categories. */
export class SmoothedCategorical {
  readonly probs: number[];
  constructor(indices: readonly number[], categories: number, priorWeight = 1) {
    const counts = new Array<number>(categories).fill(priorWeight / categories);
    for (const i of indices) counts[i]! += 1;
    const total = counts.reduce((a, b) => a + b, 0);
    this.probs = counts.map((c) => c / total);
  }

  sample(rng: Rng): number {
    let u = rng.next();
    for (let k = 0; k < this.probs.length - 1; k++) {
      if (u < this.probs[k]!) return k;
      u -= this.probs[k]!;
    }
    return this.probs.length - 1;
  }

  logPdf(k: number): number {
    return Math.log(this.probs[k]!);
  }
}
