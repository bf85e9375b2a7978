// Training batches: random cases, patches at random positions, and a share of each batch (nnU-Net's
// 0.33 by default) forced to contain foreground (centred near a stored foreground voxel of a random
// class).
import type { StoredCase } from '../preprocess/store.js';
import { readPatch, patchTensors } from '../preprocess/store.js';
import type { Tensor } from '../engine/index.js';
import type { Rng } from '../common/random.js';
import { DEFAULT_FOREGROUND_OVERSAMPLING } from './recipe.js';

/** Patch start for a case: around a foreground voxel when forced (and the case has one), else random. */
export function patchStart(meta: StoredCase, patch: number[], forceForeground: boolean, rng: Rng): number[] {
  const classes = Object.keys(meta.classLocations).filter((k) => meta.classLocations[k]!.length);
  if (forceForeground && classes.length) {
    const locs = meta.classLocations[classes[rng.int(0, classes.length - 1)]!]!;
    const p = locs[rng.int(0, locs.length - 1)]!;
    // the voxel lands anywhere inside the patch
    return p.map((v, d) => v - rng.int(0, patch[d]! - 1));
  }
  // random inside the image; along an axis where the image is smaller than the patch, anywhere the
  // patch still covers the whole image (the rest is zero padding)
  return meta.shape.map((s, d) => rng.int(Math.min(0, s - patch[d]!), Math.max(0, s - patch[d]!)));
}

/**
 * Reads a batch [N, C, ...patch] / [N, ...patch]; sample i is forced to foreground when
 * i ≥ round(N · (1 − foregroundFraction)), as nnU-Net's get_do_oversample does: 0 forces none, 1
 * every sample (each then holds foreground when its case has any).
 */
export function sampleBatch(
  dir: string,
  cases: StoredCase[],
  patch: number[],
  batchSize: number,
  rng: Rng,
  foregroundFraction = DEFAULT_FOREGROUND_OVERSAMPLING,
): { x: Tensor; y: Tensor } {
  const patches = [];
  const forcedFrom = Math.round(batchSize * (1 - foregroundFraction));
  for (let i = 0; i < batchSize; i++) {
    const meta = cases[rng.int(0, cases.length - 1)]!;
    const start = patchStart(meta, patch, i >= forcedFrom, rng);
    patches.push(readPatch(dir, meta, start, patch));
  }
  return patchTensors(patches, cases[0]!.channels, patch);
}
