// Sliding-window inference: windows of the network's patch size tiled with a step of half a
// patch, batched, weighted by a Gaussian importance map, optionally mirrored, accumulated into one
// logits volume. Holds one C×D×H×W float32 accumulator (plus one weight volume), never two.
// Device-generic: windows run where the network lives (o.device); the accumulator stays on that
// device when it fits in its free memory, else on the CPU (windows' logits then cross per batch).
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
  canonicalDevice,
  deviceMemory,
} from '../engine/index.js';
import { gaussianImportance } from './gaussian.js';
import { windowBoxes } from './windows.js';

/** Something that maps [N, C, ...patch] to logits [N, K, ...patch]: a new tensor each call, which
 * the sliding window weights in place. */
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
  /** Where the network lives and the windows are computed (default: the image's device). */
  device?: string;
  /** Where the Gaussian accumulation happens: 'auto' (default) = the compute device when it fits
   * (accumulationDevice), else the CPU. */
  accumulate?: 'auto' | 'device' | 'cpu';
  onProgress?: (done: number, total: number) => void;
}

// the window positions live in windows.ts (no engine there: the ONNX Runtime path shares them)
export { windowStarts, windowBoxes } from './windows.js';

function mirrorCombinations(axes: number[]): number[][] {
  let combos: number[][] = [[]];
  for (const a of axes) combos = [...combos, ...combos.map((c) => [...c, a])];
  return combos;
}

/** Bytes the accumulation of a [channels, ...shape] image into `classes` logits holds on its device. */
export function accumulationBytes(shape: number[], channels: number, classes: number): number {
  const voxels = shape.reduce((a, b) => a * b, 1);
  // logits accumulator + weights + the image itself, float32
  return 4 * voxels * (classes + 1 + channels);
}

/**
 * Where to accumulate: the compute device when the accumulator fits in its free memory with room
 * left for the network's activations (a quarter of the device, at least 1 GiB), else the CPU. When
 * free memory cannot be read, accumulators up to 2 GiB stay on the device.
 */
export function accumulationDevice(
  device: string,
  bytes: number,
  memory: { freeBytes: number; totalBytes: number } | null = deviceMemory(device),
): string {
  if (device === 'cpu') return 'cpu';
  if (!memory) return bytes <= 2 * 2 ** 30 ? device : 'cpu';
  const reserve = Math.max(2 ** 30, memory.totalBytes / 4);
  return bytes <= memory.freeBytes - reserve ? device : 'cpu';
}

/**
 * Logits [K, ...spatial] for one image [C, ...spatial] (float32, on the accumulation device: see
 * `accumulate`). Images smaller than the patch are padded for the windows and cropped back.
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
  const device = canonicalDevice(o.device ?? image.device);
  const accDevice =
    o.accumulate === 'cpu'
      ? 'cpu'
      : o.accumulate === 'device'
        ? device
        : accumulationDevice(device, accumulationBytes(shape, padded.shape[0]!, o.numClasses));
  // with the accumulator on the device the whole image crosses once; else each batch of windows does
  const source = accDevice === device && padded.device !== device ? keep(padded.to(device)) : padded;
  const gauss = keep(tidy(() => gaussianImportance(o.patch, o.sigmaScale).to(accDevice)));
  const acc = keep(zeros([o.numClasses, ...shape], { device: accDevice }));
  const weight = keep(zeros(shape, { device: accDevice }));
  try {
    noGrad(() => {
      for (let b = 0; b < boxes.length; b += batch) {
        tidy(() => {
          const group = boxes.slice(b, b + batch);
          const windows = stack(
            group.map((box) => box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), source)),
            0,
          ).to(device);
          let logits: Tensor | null = null;
          for (const m of mirrors) {
            const dims = m.map((a) => a + 2);
            const input = dims.length ? windows.flip(...dims) : windows;
            let out = autocast(o.autocast ?? null, () => net.forward(input)).float();
            if (dims.length) out = out.flip(...dims);
            logits = logits ? logits.add_(out) : out;
          }
          if (mirrors.length > 1) logits!.div_(mirrors.length);
          if (accDevice !== device) logits = logits!.to(accDevice);
          // weighted in place, the whole batch at once (no K×patch temporary per window): the same
          // float32 products and sums as before, bit for bit (test/infer/slidingWindowFast.test.ts)
          logits!.mul_(gauss);
          group.forEach((box, k) => {
            const target = box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), acc);
            target.add_(logits!.select(0, k));
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
    if (source !== padded) source.dispose();
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
