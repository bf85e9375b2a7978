// Smooth random fields: random values on a coarse lattice, interpolated with a smoothstep so that the
// field is continuous with a continuous gradient. Used to perturb shapes (blobs that are not perfect
// ellipsoids), for MRI bias fields and for tissue texture.
import type { Rng } from '../common/random.js';

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

export class LatticeNoise {
  private readonly values: Float32Array;
  private readonly nx: number;
  private readonly ny: number;
  private readonly nz: number;

  /** `cells` lattice cells per axis over [0, 1]; values uniform in [-1, 1]. */
  constructor(rng: Rng, cells: readonly [number, number, number]) {
    [this.nx, this.ny, this.nz] = cells.map((c) => Math.max(1, Math.round(c))) as [number, number, number];
    this.values = new Float32Array((this.nx + 1) * (this.ny + 1) * (this.nz + 1));
    for (let i = 0; i < this.values.length; i++) this.values[i] = rng.uniform(-1, 1);
  }

  private v(i: number, j: number, k: number): number {
    return this.values[i + (this.nx + 1) * (j + (this.ny + 1) * k)]!;
  }

  /** Value at (u, v, w) ∈ [0, 1]³ (clamped outside). */
  at(u: number, v: number, w: number): number {
    const [i, fx] = split(u, this.nx);
    const [j, fy] = split(v, this.ny);
    const [k, fz] = split(w, this.nz);
    const a = lerp(
      lerp(this.v(i, j, k), this.v(i + 1, j, k), fx),
      lerp(this.v(i, j + 1, k), this.v(i + 1, j + 1, k), fx),
      fy,
    );
    const b = lerp(
      lerp(this.v(i, j, k + 1), this.v(i + 1, j, k + 1), fx),
      lerp(this.v(i, j + 1, k + 1), this.v(i + 1, j + 1, k + 1), fx),
      fy,
    );
    return lerp(a, b, fz);
  }

  /**
   * A sampler of whole rows: for a fixed (v, w) the field along u only needs the lattice line at that
   * (v, w), so a full volume costs one 1D interpolation per voxel instead of a 3D one.
   */
  rowSampler(us: ArrayLike<number>): (v: number, w: number, out: Float32Array) => void {
    const n = us.length;
    const cell = new Int32Array(n);
    const frac = new Float32Array(n);
    for (let x = 0; x < n; x++) [cell[x], frac[x]] = split(us[x]!, this.nx);
    const line = new Float32Array(this.nx + 1);
    return (v, w, out) => {
      const [j, fy] = split(v, this.ny);
      const [k, fz] = split(w, this.nz);
      for (let i = 0; i <= this.nx; i++) {
        const a = lerp(this.v(i, j, k), this.v(i, j + 1, k), fy);
        const b = lerp(this.v(i, j, k + 1), this.v(i, j + 1, k + 1), fy);
        line[i] = lerp(a, b, fz);
      }
      for (let x = 0; x < n; x++) {
        const c = cell[x]!;
        out[x] = line[c]! + (line[c + 1]! - line[c]!) * frac[x]!;
      }
    };
  }
}

// Lattice cell and smoothstepped fraction of a coordinate in [0, 1].
function split(u: number, n: number): [number, number] {
  const t = Math.min(Math.max(u, 0), 1) * n;
  const i = Math.min(Math.floor(t), n - 1);
  return [i, smooth(t - i)];
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}
