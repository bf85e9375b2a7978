// preprocessCase and its inverse (src/preprocess/preprocessCase.ts) on plain arrays, for the ONNX
// Runtime path: crop (the plan's rule: the non-zero box, or what differs from a constant background), normalise each channel, resample to the target spacing
// (linear, or cubic in-plane; the coarse axis of anisotropic data alone with nearest), and back.
// The same rules as the libtorch code, step for step; the shapes and the anisotropy decision come
// from the same (engine-free) helpers.
import { resampledShape, separateAxis } from '../preprocess/resampleShape.js';
import type { NormalizationPlan } from '../plan/normalization.js';
import { LEGACY_CROP, type CropRule } from '../common/background.js';
import {
  channelOf,
  backgroundValuesArray,
  cropVolume,
  foregroundBBox,
  foregroundMaskArray,
  numel,
  resampleAxis,
  uncropVolume,
  type BBox,
  type ChannelVolume,
} from './arrays.js';

export interface ArrayPreprocessPlan {
  targetSpacing: number[];
  normalization: NormalizationPlan[];
  /** Absent: the non-zero box (plans and exports made before `crop`). */
  crop?: CropRule;
  imageInterpolation: 'linear' | 'cubic';
}

export interface ArrayPreprocessRecord {
  originalShape: number[];
  originalSpacing: number[];
  bbox: BBox;
  croppedShape: number[];
  resampledShape: number[];
}

/** Normalises channel x in place (nnU-Net's schemes, as normalizeChannel). */
export function normalizeArray(x: Float32Array, plan: NormalizationPlan, mask: Uint8Array | null): void {
  const n = x.length;
  switch (plan.scheme) {
    case 'none':
      return;
    case 'ct': {
      if (!plan.ct) throw new Error('CT normalisation needs the dataset statistics (plan.ct)');
      const { mean, std, p005, p995 } = plan.ct;
      const s = Math.max(std, 1e-8);
      for (let i = 0; i < n; i++) x[i] = (Math.min(Math.max(x[i]!, p005), p995) - mean) / s;
      return;
    }
    case 'rescale': {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, x[i]!);
        hi = Math.max(hi, x[i]!);
      }
      const r = Math.max(hi - lo, 1e-8);
      for (let i = 0; i < n; i++) x[i] = (x[i]! - lo) / r;
      return;
    }
    case 'zscore': {
      if (plan.useMask && mask) {
        let count = 0;
        let sum = 0;
        for (let i = 0; i < n; i++)
          if (mask[i]) {
            count++;
            sum += x[i]!;
          }
        const mean = count ? sum / count : 0;
        let ss = 0;
        for (let i = 0; i < n; i++) {
          const c = mask[i] ? x[i]! - mean : 0;
          ss += c * c;
        }
        const std = Math.max(count > 1 ? Math.sqrt(ss / (count - 1)) : 1, 1e-8);
        for (let i = 0; i < n; i++) x[i] = mask[i] ? (x[i]! - mean) / std : 0;
        return;
      }
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i]!;
      const mean = sum / n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (x[i]! - mean) ** 2;
      const std = Math.max(n > 1 ? Math.sqrt(ss / (n - 1)) : 1, 1e-8);
      for (let i = 0; i < n; i++) x[i] = (x[i]! - mean) / std;
      return;
    }
  }
}

/** Resamples [C, z, y, x] to `size` as resampleImage does (spacing decides the separate axis). */
export function resampleImageArray(
  v: ChannelVolume,
  size: number[],
  spacing: number[],
  mode: 'linear' | 'cubic',
): ChannelVolume {
  if (size.every((s, d) => s === v.shape[d])) return v;
  const axis = separateAxis(spacing);
  const all = (m: 'linear' | 'cubic' | 'nearest', skip: number, x: ChannelVolume) =>
    [0, 1, 2].reduce((y, d) => (d === skip ? y : resampleAxis(y, d, size[d]!, m)), x);
  if (mode === 'cubic') {
    // bicubic within slices (along the coarse axis, or z), then that axis alone
    const sliceAxis = axis < 0 ? 0 : axis;
    const a = all('cubic', sliceAxis, v);
    return resampleAxis(a, sliceAxis, size[sliceAxis]!, axis < 0 ? 'linear' : 'nearest');
  }
  if (axis < 0) return all('linear', -1, v);
  const a = all('linear', axis, v);
  return resampleAxis(a, axis, size[axis]!, 'nearest');
}

/** image [C, z, y, x] (real values), spacing (z, y, x) → the network's input grid. */
export function preprocessArrays(
  image: ChannelVolume,
  spacing: number[],
  plan: ArrayPreprocessPlan,
): { image: ChannelVolume; record: ArrayPreprocessRecord } {
  if (plan.normalization.length !== image.channels)
    throw new Error(
      `preprocess: the plan normalises ${plan.normalization.length} channels, the image has ${image.channels}`,
    );
  const originalShape = [...image.shape];
  const background = backgroundValuesArray(image, plan.crop ?? LEGACY_CROP);
  const bbox = foregroundBBox(image, background);
  const cropped = cropVolume(image, bbox);
  const croppedShape = cropped.shape;
  const cropFraction = numel(croppedShape) / numel(originalShape);
  const mask = foregroundMaskArray(cropped, background);
  plan.normalization.forEach((p, c) =>
    normalizeArray(channelOf(cropped, c), { ...p, useMask: p.useMask ?? cropFraction < 0.75 }, mask),
  );
  const target = resampledShape(croppedShape, spacing, plan.targetSpacing);
  const out = resampleImageArray(cropped, target, spacing, plan.imageInterpolation);
  return {
    image: out === cropped ? cropped : out,
    record: { originalShape, originalSpacing: [...spacing], bbox, croppedShape, resampledShape: target },
  };
}

/** Probabilities [K, ...resampled] back to the original grid: linear, then uncropped (background 1 outside). */
export function revertProbabilitiesArray(
  probs: ChannelVolume,
  record: ArrayPreprocessRecord,
  targetSpacing: number[],
): ChannelVolume {
  const back = resampleImageArray(probs, record.croppedShape, targetSpacing, 'linear');
  const fill = Array.from({ length: probs.channels }, (_, k) => (k === 0 ? 1 : 0));
  return uncropVolume(back, record.bbox, record.originalShape, fill);
}

/** Stage 1's class indices [...original] → one-hot foreground channels [K-1, ...resampled] (nearest). */
export function priorChannelsArray(
  prior: Uint8Array,
  record: ArrayPreprocessRecord,
  numClasses: number,
): ChannelVolume {
  const cropped = cropVolume(
    { data: Float32Array.from(prior), channels: 1, shape: record.originalShape },
    record.bbox,
  );
  const r = [0, 1, 2].reduce((y, d) => resampleAxis(y, d, record.resampledShape[d]!, 'nearest'), cropped);
  const n = numel(record.resampledShape);
  const out = new Float32Array((numClasses - 1) * n);
  for (let i = 0; i < n; i++) {
    const k = Math.round(r.data[i]!);
    if (k > 0) out[(k - 1) * n + i] = 1;
  }
  return { data: out, channels: numClasses - 1, shape: record.resampledShape };
}
