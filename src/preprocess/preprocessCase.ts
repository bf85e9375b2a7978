// One case through preprocessing — crop (to the non-zero box, or to what differs from a constant
// background: the plan's `crop`), normalise each channel, resample to
// the target spacing — and the inverse that puts a prediction back into the input's geometry.
import { tidy, noGrad, stack, type Tensor } from '../engine/index.js';
import { cropBox, cropTo, foregroundMask, uncrop, type BBox } from '../grid/crop.js';
import { LEGACY_CROP, type CropRule } from '../common/background.js';
import { normalizeChannel, type NormalizationPlan } from './normalize.js';
import {
  resampleImage,
  resampleLabels,
  resampledShape,
  type ImageInterpolation,
  type LabelInterpolation,
} from './resample.js';

export interface PreprocessPlan {
  /** Target spacing in array order (z, y, x), mm. */
  targetSpacing: number[];
  normalization: NormalizationPlan[];
  imageInterpolation?: ImageInterpolation;
  labelInterpolation?: LabelInterpolation;
  numClasses: number;
  /** What the first step crops to (absent: the non-zero box, as before plans had `crop`). */
  crop?: CropRule;
}

/** What the inverse needs: where the crop was and the shapes before and after resampling. */
export interface PreprocessRecord {
  originalShape: number[];
  originalSpacing: number[];
  bbox: BBox;
  croppedShape: number[];
  resampledShape: number[];
}

export interface PreprocessedCase {
  image: Tensor; // [C, ...resampled] float32
  labels: Tensor | null; // [...resampled] int64
  record: PreprocessRecord;
}

/** image [C, z, y, x] (real values), labels [z, y, x] or null, spacing (z, y, x). */
export function preprocessCase(
  image: Tensor,
  labels: Tensor | null,
  spacing: number[],
  plan: PreprocessPlan,
): PreprocessedCase {
  if (plan.normalization.length !== image.shape[0]) {
    throw new Error(
      `preprocess: the plan normalises ${plan.normalization.length} channels, the image has ${image.shape[0]}`,
    );
  }
  return tidy(() =>
    noGrad(() => {
      const originalShape = image.shape.slice(1);
      const { box: bbox, background } = cropBox(image, plan.crop ?? LEGACY_CROP);
      const cropped = cropTo(image, bbox);
      const croppedShape = cropped.shape.slice(1);
      // nnU-Net normalises MRI inside the non-zero mask when cropping took away a quarter or more;
      // under the background rule the mask is what differs from the background
      const cropFraction = croppedShape.reduce((a, b) => a * b, 1) / originalShape.reduce((a, b) => a * b, 1);
      const mask = foregroundMask(cropped, background);
      const channels = plan.normalization.map((n, c) =>
        normalizeChannel(cropped.select(0, c), { ...n, useMask: n.useMask ?? cropFraction < 0.75 }, mask),
      );
      const normalized = stack(channels, 0);
      const target = resampledShape(croppedShape, spacing, plan.targetSpacing);
      const out = resampleImage(normalized, target, spacing, plan.imageInterpolation ?? 'linear');
      let lab: Tensor | null = null;
      if (labels) {
        const croppedLabels = cropTo(labels.unsqueeze(0), bbox).squeeze(0);
        lab = resampleLabels(
          croppedLabels,
          target,
          spacing,
          plan.numClasses,
          plan.labelInterpolation ?? 'nearest',
        );
      }
      return {
        image: out,
        labels: lab,
        record: { originalShape, originalSpacing: [...spacing], bbox, croppedShape, resampledShape: target },
      };
    }),
  );
}

/**
 * Class probabilities or logits [K, ...resampled] back to the original grid [K, ...original]:
 * resampled to the cropped shape (linear), then placed into the uncropped volume (outside the crop
 * the background class gets all the probability). Region probabilities have no background channel
 * (`background` false): every channel is 0 outside the crop.
 */
export function revertProbabilities(
  probs: Tensor,
  record: PreprocessRecord,
  targetSpacing: number[],
  background = true,
): Tensor {
  return tidy(() =>
    noGrad(() => {
      const back = resampleImage(probs, record.croppedShape, targetSpacing, 'linear');
      if (!background) return uncrop(back, record.bbox, record.originalShape, 0);
      const bg = uncrop(back.narrow(0, 0, 1), record.bbox, record.originalShape, 1);
      if (back.shape[0] === 1) return bg;
      const rest = uncrop(back.narrow(0, 1, back.shape[0]! - 1), record.bbox, record.originalShape, 0);
      return stack([bg.squeeze(0), ...rest.split(1, 0).map((t) => t.squeeze(0))], 0);
    }),
  );
}

/** A label map [...resampled] back to the original grid (nearest), zero outside the crop. */
export function revertLabels(
  labels: Tensor,
  record: PreprocessRecord,
  numClasses: number,
  targetSpacing: number[],
): Tensor {
  return tidy(() =>
    noGrad(() => {
      const back = resampleLabels(labels, record.croppedShape, targetSpacing, numClasses, 'nearest');
      return uncrop(back.unsqueeze(0), record.bbox, record.originalShape, 0).squeeze(0);
    }),
  );
}
