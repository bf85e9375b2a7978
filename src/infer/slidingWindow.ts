// Sliding-window inference: windows of the network's patch size tiled with a step of half a
// patch, batched, weighted by a Gaussian importance map, optionally mirrored, accumulated into one
// logits volume. Holds one C×D×H×W float32 accumulator (plus one weight volume), never two.
import {
  autocast,
  noGrad,
  stack,
  tidy,
  keep,
  zeros,
  F,
  type Tensor,
  type AutocastDType,
} from '../engine/index.js';
import { gaussianImportance } from './gaussian.js';

/** Something that maps [N, C, ...patch] to logits [N, K, ...patch]. */
export interface SegmentationNetwork {
  forward(x: Tensor): Tensor;
}

export interface SlidingWindowOptions {
  patch: number[];
  numClasses: number;
  /** Fraction of the patch between window starts (nnU-Net: 0.5). */
  step?: number;
  /** Windows per forward pass. */
  batch?: number;
  /** Spatial axes (0-based within the patch) to mirror for test-time augmentation. */
  mirrorAxes?: number[];
  sigmaScale?: number;
  autocast?: AutocastDType | null;
  device?: string;
  onProgress?: (done: number, total: number) => void;
}

/** Rounds to the nearest integer, halves to even (numpy's np.round, which nnU-Net's tiling uses). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Window start positions along one axis: evenly spread, first at 0, last flush with the end. The
 * same starts as nnU-Net's compute_steps_for_sliding_window, ties included (29 voxels with a
 * 16-voxel patch: 0, 6, 13, not 0, 7, 13).
 */
export function windowStarts(size: number, patch: number, step: number): number[] {
  if (size <= patch) return [0];
  const n = Math.ceil((size - patch) / (patch * step)) + 1;
  const actual = (size - patch) / (n - 1);
  return Array.from({ length: n }, (_, i) => roundHalfEven(actual * i));
}

/** All window corners of a volume's spatial shape. */
export function windowBoxes(shape: number[], patch: number[], step: number): number[][] {
  let boxes: number[][] = [[]];
  shape.forEach((s, d) => {
    const starts = windowStarts(s, patch[d]!, step);
    boxes = boxes.flatMap((b) => starts.map((st) => [...b, st]));
  });
  return boxes;
}

function mirrorCombinations(axes: number[]): number[][] {
  let combos: number[][] = [[]];
  for (const a of axes) combos = [...combos, ...combos.map((c) => [...c, a])];
  return combos;
}

/**
 * Logits [K, ...spatial] for one image [C, ...spatial] (float32 on the input's device). Images
 * smaller than the patch are padded for the windows and cropped back.
 */
export function slidingWindowLogits(
  net: SegmentationNetwork,
  image: Tensor,
  o: SlidingWindowOptions,
): Tensor {
  const spatial = image.shape.slice(1);
  const nd = spatial.length;
  if (o.patch.length !== nd) throw new Error(`sliding window: patch has ${o.patch.length} dims, image ${nd}`);
  const padAmounts = spatial.map((s, d) => Math.max(0, o.patch[d]! - s));
  const padded = padAmounts.some((p) => p > 0)
    ? tidy(() => {
        // pad evenly on both sides; F.pad lists the last axis first
        const p: number[] = [];
        for (let d = nd - 1; d >= 0; d--) p.push(padAmounts[d]! >> 1, padAmounts[d]! - (padAmounts[d]! >> 1));
        return F.pad(image, p, 'constant', 0);
      })
    : image;
  const shape = padded.shape.slice(1);
  const boxes = windowBoxes(shape, o.patch, o.step ?? 0.5);
  const batch = Math.max(1, o.batch ?? 2);
  const mirrors = mirrorCombinations(o.mirrorAxes ?? []);
  const device = image.device;
  const gauss = keep(tidy(() => gaussianImportance(o.patch, o.sigmaScale).to(device)));
  const acc = keep(zeros([o.numClasses, ...shape], { device }));
  const weight = keep(zeros(shape, { device }));
  try {
    noGrad(() => {
      for (let b = 0; b < boxes.length; b += batch) {
        tidy(() => {
          const group = boxes.slice(b, b + batch);
          const windows = stack(
            group.map((box) => box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), padded)),
            0,
          );
          let logits: Tensor | null = null;
          for (const m of mirrors) {
            const dims = m.map((a) => a + 2);
            const input = dims.length ? windows.flip(...dims) : windows;
            let out = autocast(o.autocast ?? null, () => net.forward(input)).float();
            if (dims.length) out = out.flip(...dims);
            logits = logits ? logits.add_(out) : out;
          }
          if (mirrors.length > 1) logits!.div_(mirrors.length);
          group.forEach((box, k) => {
            const target = box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), acc);
            target.add_(logits!.select(0, k).mul(gauss));
            const w = box.reduce((t, st, d) => t.narrow(d, st, o.patch[d]!), weight);
            w.add_(gauss);
          });
        });
        o.onProgress?.(Math.min(b + batch, boxes.length), boxes.length);
      }
      acc.div_(weight);
    });
  } finally {
    gauss.dispose();
    weight.dispose();
    if (padded !== image) padded.dispose();
  }
  if (!padAmounts.some((p) => p > 0)) return acc;
  const cropped = tidy(() =>
    spatial.reduce((t, s, d) => t.narrow(d + 1, padAmounts[d]! >> 1, s), acc).contiguous(),
  );
  acc.dispose();
  return cropped;
}

/** Label map [...spatial] (int64) = argmax over classes of the sliding-window logits. */
export function slidingWindowSegment(
  net: SegmentationNetwork,
  image: Tensor,
  o: SlidingWindowOptions,
): Tensor {
  const logits = slidingWindowLogits(net, image, o);
  try {
    return noGrad(() => logits.argmax(0));
  } finally {
    logits.dispose();
  }
}
