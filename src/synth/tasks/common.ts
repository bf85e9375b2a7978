// Helpers shared by the task painters: sizes that stay visible on coarse grids, random placement inside
// a shape, and the finishing steps of each modality.
import type { Grid, Vec3 } from '../grid.js';
import { addRicianNoise, applyBias, blur, PSF_SIGMA, toHounsfield } from '../imaging.js';
import type { Rng } from '../../common/random.js';
import { ellipsoid, randomRotation, type Region } from '../regions.js';
import type { Scene } from '../scene.js';

/**
 * Radii no smaller than `voxels` voxels along each axis: a 4 mm nodule must still exist on a 12 mm tiny
 * grid, or the tiny datasets would have nothing to segment.
 */
export function visible(grid: Grid, radii: Vec3, voxels = 0.8): Vec3 {
  return radii.map((r, a) => Math.max(r, voxels * grid.spacing[a]!)) as Vec3;
}

/** A scalar radius no smaller than `voxels` of the coarsest in-plane spacing. */
export function visibleRadius(grid: Grid, r: number, voxels = 0.7): number {
  return Math.max(r, voxels * Math.max(grid.spacing[0], grid.spacing[1]));
}

/** A point where region.level < depth (rejection sampling in its box); its centre-most try otherwise. */
export function pointInside(rng: Rng, region: Region, depth = -0.3, tries = 400): Vec3 {
  let best: Vec3 = region.min.map((m, a) => (m + region.max[a]!) / 2) as Vec3;
  let bestLevel = Infinity;
  for (let t = 0; t < tries; t++) {
    const p = region.min.map((m, a) => rng.uniform(m, region.max[a]!)) as Vec3;
    const l = region.level(p[0], p[1], p[2]);
    if (l < depth) return p;
    if (l < bestLevel) [best, bestLevel] = [p, l];
  }
  return best;
}

export function jitter(rng: Rng, v: Vec3, mm: number): Vec3 {
  return v.map((x) => x + rng.uniform(-mm, mm)) as Vec3;
}

export function scale(rng: Rng, v: Vec3, frac: number): Vec3 {
  return v.map((x) => x * rng.uniform(1 - frac, 1 + frac)) as Vec3;
}

/** Log-uniform draw: lesion sizes span an order of magnitude with small ones most frequent. */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
}

/** CT: render, partial-volume blur, quantum noise, int16 HU. */
export function finishCT(scene: Scene, rng: Rng, noiseHU = 12): Int16Array {
  const img = scene.render(0, scene.textureField(rng.fork('texture'), 12));
  blur(img, scene.grid.shape, PSF_SIGMA);
  return toHounsfield(img, rng.fork('noise'), noiseHU);
}

export interface MriFinish {
  /** Rician noise sigma as a fraction of `reference`. */
  noise: number;
  reference: number;
  /** Amplitude of the log bias field (0.3 ≈ ±35 % intensity over the field of view). */
  bias: number;
  /** Extra blur in mm on top of the partial-volume one (e.g. ADC maps are acquired coarser). */
  blurMm?: number;
}

/** MRI: render every channel (one shared texture), blur, per-channel bias field, Rician noise; float32. */
export function finishMRI(scene: Scene, rng: Rng, opts: MriFinish[]): Float32Array[] {
  const texture = scene.textureField(rng.fork('texture'), 10);
  return opts.map((o, c) => {
    const img = scene.render(c, texture);
    const extra = o.blurMm ?? 0;
    const sigma = scene.grid.spacing.map((s, a) => Math.hypot(PSF_SIGMA[a]!, extra / s));
    blur(img, scene.grid.shape, sigma);
    applyBias(img, scene.grid.shape, rng.fork('bias', c), o.bias);
    addRicianNoise(img, rng.fork('noise', c), o.noise * o.reference);
    return img;
  });
}

export interface LesionSpec {
  /** Radius in mm (before the per-axis spread and the visibility floor). */
  radius: (rng: Rng) => number;
  /** Intensity per channel of this lesion. */
  values: (rng: Rng) => number[];
  texture?: number[];
  label: number;
  /** Tissues the lesion may replace: it stays inside its host organ. */
  over: readonly number[];
  /** Surface irregularity (0.2 lobulated, 0.4 spiculated-looking). */
  wobble?: number;
}

/**
 * Paints n lesions, each its own tissue, at random points of `host`. A lesion that lands where the host
 * tissue is not (the host shape is clipped by its neighbours) is retried elsewhere, so asking for a
 * lesion gives one. Returns the voxels painted per lesion.
 */
export function paintLesions(
  scene: Scene,
  rng: Rng,
  host: Region,
  n: number,
  spec: LesionSpec,
  depth = -0.3,
): number[] {
  const painted: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = scene.add({
      label: spec.label,
      values: spec.values(rng),
      ...(spec.texture ? { texture: spec.texture } : {}),
    });
    const r = spec.radius(rng);
    let count = 0;
    for (let attempt = 0; attempt < 6 && count === 0; attempt++) {
      const radii = visible(scene.grid, scale(rng, [r, r, r], 0.25));
      const shape = ellipsoid(pointInside(rng, host, depth), radii, randomRotation(rng, Math.PI), {
        rng: rng.fork('lesion', i, attempt),
        cells: 3,
        amp: spec.wobble ?? 0.2,
      });
      count = scene.paint(shape, id, { over: spec.over });
    }
    painted.push(count);
  }
  return painted;
}

/**
 * A hollow tube (bowel, airway) from capsule segments: all walls first, then all lumens over the wall,
 * so a segment's lumen opens into the next one instead of leaving its end cap as a wall across the
 * lumen. `lumenBelow` is the level inside which the lumen starts (e.g. -0.2: the wall is 20 % of the radius).
 */
export function paintHollowTube(
  scene: Scene,
  segments: Region[],
  wall: number,
  lumen: number,
  lumenBelow: number,
  over: readonly number[],
): void {
  for (const seg of segments) scene.paint(seg, wall, { over });
  for (const seg of segments) scene.paint(seg, lumen, { over: [wall], below: lumenBelow });
}
