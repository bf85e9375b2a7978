// A scene is a map of tissue ids over the grid. Shapes are painted into it in order (later ones cover
// earlier ones, optionally only over given tissues); each tissue carries its label and its intensity per
// channel, so the label map and the images come from the same painting and always agree.
import { indexRange, voxels, worldOf, type Grid } from './grid.js';
import { LatticeNoise } from './noise.js';
import type { Rng } from '../common/random.js';
import type { Region } from './regions.js';

export interface Tissue {
  /** Value written to the label map. */
  label: number;
  /** Mean intensity per channel. */
  values: number[];
  /** Amplitude per channel of the smooth texture added to the mean (0 when absent). */
  texture?: number[];
}

export interface PaintOptions {
  /** Only voxels whose current tissue is one of these are painted. */
  over?: readonly number[];
  /** Paint where level < below (default 0: the shape itself; negative values shrink it). */
  below?: number;
}

export class Scene {
  readonly tissue: Uint8Array;
  private readonly tissues: Tissue[] = [];
  private readonly wx: Float64Array;
  private readonly wy: Float64Array;
  private readonly wz: Float64Array;

  constructor(
    readonly grid: Grid,
    background: Tissue,
  ) {
    this.tissue = new Uint8Array(voxels(grid));
    this.tissues.push(background);
    const coords = (a: 0 | 1 | 2): Float64Array =>
      Float64Array.from({ length: grid.shape[a] }, (_, i) => worldOf(grid, a, i));
    [this.wx, this.wy, this.wz] = [coords(0), coords(1), coords(2)];
  }

  /** Registers a tissue and returns its id. */
  add(t: Tissue): number {
    if (this.tissues.length >= 256) throw new Error('a scene holds at most 256 tissues');
    this.tissues.push(t);
    return this.tissues.length - 1;
  }

  get channels(): number {
    return this.tissues[0]!.values.length;
  }

  /** Paints `tissue` where the region's level is below the threshold; returns the voxels painted. */
  paint(region: Region, tissue: number, opts: PaintOptions = {}): number {
    return this.paintLayers(region, [{ below: opts.below ?? 0, tissue }], opts.over);
  }

  /**
   * Paints nested layers of one shape in a single pass: each voxel gets the tissue of the deepest layer
   * whose threshold its level is below (e.g. skin / fat / muscle of a body outline).
   */
  paintLayers(region: Region, layers: { below: number; tissue: number }[], over?: readonly number[]): number {
    const sorted = [...layers].sort((a, b) => a.below - b.below);
    const allowed = over ? new Uint8Array(256) : undefined;
    if (allowed && over) for (const t of over) allowed[t] = 1;
    const g = this.grid;
    const [i0, i1] = indexRange(g, 0, region.min[0], region.max[0]);
    const [j0, j1] = indexRange(g, 1, region.min[1], region.max[1]);
    const [k0, k1] = indexRange(g, 2, region.min[2], region.max[2]);
    const [nx, ny] = g.shape;
    const outer = sorted[sorted.length - 1]!.below;
    const inner = sorted[0]!.below;
    const slack = region.coarse ? (region.slack ?? Infinity) : Infinity;
    let painted = 0;
    for (let k = k0; k <= k1; k++) {
      const z = this.wz[k]!;
      for (let j = j0; j <= j1; j++) {
        const y = this.wy[j]!;
        const rowBase = nx * (j + ny * k);
        for (let i = i0; i <= i1; i++) {
          const idx = rowBase + i;
          if (allowed && !allowed[this.tissue[idx]!]) continue;
          const x = this.wx[i]!;
          let l: number;
          if (slack < Infinity) {
            // Far outside, or deeper than every layer whatever the noise: the coarse level decides.
            const c = region.coarse!(x, y, z);
            if (c - slack >= outer) continue;
            l = c + slack < inner ? c : region.level(x, y, z);
          } else l = region.level(x, y, z);
          if (!(l < outer)) continue;
          let t = sorted[sorted.length - 1]!.tissue;
          for (const layer of sorted) {
            if (l < layer.below) {
              t = layer.tissue;
              break;
            }
          }
          this.tissue[idx] = t;
          painted++;
        }
      }
    }
    return painted;
  }

  /** 1 where the tissue is one of `ids`. */
  mask(ids: readonly number[]): Uint8Array {
    const lut = new Uint8Array(256);
    for (const t of ids) lut[t] = 1;
    const out = new Uint8Array(this.tissue.length);
    for (let i = 0; i < out.length; i++) out[i] = lut[this.tissue[i]!]!;
    return out;
  }

  /** Sets `to` wherever mask is set (and the tissue is one of `over`, when given). */
  assign(mask: Uint8Array, to: number, over?: readonly number[]): number {
    const lut = new Uint8Array(256).fill(over ? 0 : 1);
    if (over) for (const t of over) lut[t] = 1;
    let n = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] && lut[this.tissue[i]!]) {
        this.tissue[i] = to;
        n++;
      }
    }
    return n;
  }

  /** World position (mm) of a voxel index, for placing objects relative to what is already painted. */
  world(idx: number): [number, number, number] {
    const [nx, ny] = this.grid.shape;
    const i = idx % nx;
    const j = Math.floor(idx / nx) % ny;
    const k = Math.floor(idx / (nx * ny));
    return [this.wx[i]!, this.wy[j]!, this.wz[k]!];
  }

  labelMap(): Uint8Array {
    const lut = new Uint8Array(256);
    this.tissues.forEach((t, id) => (lut[id] = t.label));
    const out = new Uint8Array(this.tissue.length);
    for (let i = 0; i < out.length; i++) out[i] = lut[this.tissue[i]!]!;
    return out;
  }

  /** A smooth field over the whole grid with features about `featureMm` apart, for tissue texture. */
  textureField(rng: Rng, featureMm = 15): LatticeNoise {
    const g = this.grid;
    const cells = g.shape.map((n, a) => Math.max(1, Math.round((n * g.spacing[a]!) / featureMm)));
    return new LatticeNoise(rng, cells as [number, number, number]);
  }

  /**
   * Intensities of one channel: each tissue's mean plus its texture amplitude times `texture` (pass the
   * same field for every channel so that a heterogeneous tumour is heterogeneous alike in all of them).
   */
  render(channel: number, texture?: LatticeNoise): Float32Array {
    const [nx, ny, nz] = this.grid.shape;
    const mean = new Float32Array(256);
    const tex = new Float32Array(256);
    this.tissues.forEach((t, id) => {
      mean[id] = t.values[channel] ?? 0;
      tex[id] = t.texture?.[channel] ?? 0;
    });
    const out = new Float32Array(this.tissue.length);
    const sample =
      texture && tex.some((v) => v !== 0)
        ? texture.rowSampler(Float64Array.from({ length: nx }, (_, i) => (i + 0.5) / nx))
        : undefined;
    const row = new Float32Array(nx);
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const base = nx * (j + ny * k);
        if (sample) sample((j + 0.5) / ny, (k + 0.5) / nz, row);
        for (let i = 0; i < nx; i++) {
          const t = this.tissue[base + i]!;
          out[base + i] = mean[t]! + tex[t]! * row[i]!;
        }
      }
    }
    return out;
  }
}
