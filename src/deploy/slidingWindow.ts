// The sliding window on plain arrays with an ONNX network: the same windows (windowBoxes), the same
// Gaussian importance, the same mirroring and the same padding of small images as the libtorch
// sliding window (src/infer/slidingWindow.ts). Holds one K×D×H×W accumulator and one weight volume.
import { gaussianImportanceArray, windowBoxes } from '../infer/windows.js';
import { asRank3, extractBox, flipSpatial, numel, type ChannelVolume } from './arrays.js';

/** A network as the sliding window calls it: logits [n, K, ...patch] of windows [n, C, ...patch]. */
export interface WindowNetwork {
  run(windows: Float32Array, n: number): Promise<Float32Array>;
}

export interface ArraySlidingWindowOptions {
  patch: number[];
  numClasses: number;
  step: number;
  sigmaScale: number;
  batch: number;
  /** Spatial axes (0-based within the patch) to mirror. */
  mirrorAxes: number[];
  /** Called after each batch of windows (windows done, windows in all). */
  progress?: (done: number, total: number) => void;
}

function mirrorCombinations(axes: number[]): number[][] {
  let combos: number[][] = [[]];
  for (const a of axes) combos = [...combos, ...combos.map((c) => [...c, a])];
  return combos;
}

/** Logits [K, ...spatial] (averaged over the windows by importance) of image [C, ...spatial]. */
export async function slidingWindowLogitsArray(
  net: WindowNetwork,
  image: ChannelVolume,
  o: ArraySlidingWindowOptions,
): Promise<ChannelVolume> {
  const nd = image.shape.length;
  if (o.patch.length !== nd) throw new Error(`sliding window: patch has ${o.patch.length} dims, image ${nd}`);
  // images smaller than the patch: windows read zeros around them (padded evenly on both sides)
  const padBefore = image.shape.map((s, d) => Math.max(0, o.patch[d]! - s) >> 1);
  const shape = image.shape.map((s, d) => Math.max(s, o.patch[d]!));
  const boxes = windowBoxes(shape, o.patch, o.step);
  const K = o.numClasses;
  const C = image.channels;
  // work in rank 3 (a 2D slice is one plane deep)
  const img3 = asRank3(image);
  const patch3 = nd === 3 ? o.patch : [1, ...o.patch];
  const shape3 = nd === 3 ? shape : [1, ...shape];
  const pad3 = nd === 3 ? padBefore : [0, ...padBefore];
  const mirror3 = o.mirrorAxes.map((a) => (nd === 3 ? a : a + 1));
  const P = numel(o.patch);
  const V = numel(shape);
  const gauss = gaussianImportanceArray(o.patch, o.sigmaScale);
  const acc = new Float32Array(K * V);
  const weight = new Float32Array(V);
  const mirrors = mirrorCombinations(mirror3);
  const [, PH, PW] = patch3 as [number, number, number];
  const [, SH, SW] = shape3 as [number, number, number];
  for (let b = 0; b < boxes.length; b += o.batch) {
    const group = boxes.slice(b, b + o.batch).map((box) => (nd === 3 ? box : [0, ...box]));
    const windows = new Float32Array(group.length * C * P);
    group.forEach((box, k) =>
      extractBox(
        img3,
        box.map((st, d) => st - pad3[d]!),
        patch3,
        0,
        windows,
        k * C * P,
      ),
    );
    let logits: Float32Array | null = null;
    for (const m of mirrors) {
      const out = await net.run(flipSpatial(windows, patch3, m), group.length);
      const back = flipSpatial(out, patch3, m);
      if (!logits) logits = back === out ? out.slice() : back;
      else for (let i = 0; i < logits.length; i++) logits[i] += back[i]!;
    }
    if (mirrors.length > 1) for (let i = 0; i < logits!.length; i++) logits![i] /= mirrors.length;
    group.forEach((box, k) => {
      const [z0, y0, x0] = box as [number, number, number];
      for (let c = 0; c < K; c++) {
        const src = (k * K + c) * P;
        const dst = c * V;
        for (let z = 0, i = 0; z < patch3[0]!; z++)
          for (let y = 0; y < PH; y++) {
            const row = dst + ((z0 + z) * SH + y0 + y) * SW + x0;
            for (let x = 0; x < PW; x++, i++) acc[row + x] += logits![src + i]! * gauss[i]!;
          }
      }
      for (let z = 0, i = 0; z < patch3[0]!; z++)
        for (let y = 0; y < PH; y++) {
          const row = ((z0 + z) * SH + y0 + y) * SW + x0;
          for (let x = 0; x < PW; x++, i++) weight[row + x] += gauss[i]!;
        }
    });
    o.progress?.(Math.min(b + o.batch, boxes.length), boxes.length);
  }
  for (let c = 0; c < K; c++) for (let i = 0; i < V; i++) acc[c * V + i] /= weight[i]!;
  if (shape.every((s, d) => s === image.shape[d])) return { data: acc, channels: K, shape: image.shape };
  const out = extractBox(
    asRank3({ data: acc, channels: K, shape }),
    nd === 3 ? padBefore : [0, ...padBefore],
    nd === 3 ? image.shape : [1, ...image.shape],
  );
  return { data: out, channels: K, shape: image.shape };
}

/** Softmax over the channel axis of [K, ...] in place. */
export function softmaxChannels(v: ChannelVolume): ChannelVolume {
  const n = numel(v.shape);
  const K = v.channels;
  const a = v.data;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, a[k * n + i]!);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(a[k * n + i]! - max);
      a[k * n + i] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) a[k * n + i] /= sum;
  }
  return v;
}
