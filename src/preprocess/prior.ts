// The cascade's segmentation prior: stage 1's label map, in the input's own geometry, taken through
// the same crop and resampling as the image of stage 2, as one channel per foreground class (1 inside
// the class, 0 elsewhere). These channels follow the image channels in stage 2's input.
import { tidy, noGrad, stack, cat, type Tensor } from '../engine/index.js';
import { cropTo } from '../grid/crop.js';
import { resampleLabels } from './resample.js';
import type { PreprocessRecord } from './preprocessCase.js';

/** Class indices [...original] → one-hot foreground channels [K-1, ...resampled] float32. */
export function priorChannels(prior: Tensor, record: PreprocessRecord, numClasses: number): Tensor {
  if (prior.shape.join(',') !== record.originalShape.join(',')) {
    throw new Error(
      `cascade prior: stage 1's label map has shape [${prior.shape}], the image [${record.originalShape}]`,
    );
  }
  return tidy(() =>
    noGrad(() => {
      const cropped = cropTo(prior.unsqueeze(0), record.bbox).squeeze(0);
      const resampled = resampleLabels(
        cropped,
        record.resampledShape,
        record.originalSpacing,
        numClasses,
        'nearest',
      );
      const channels = Array.from({ length: numClasses - 1 }, (_, k) => resampled.eq(k + 1).float());
      return stack(channels, 0);
    }),
  );
}

/** image [C, ...] with the prior channels appended: [C + K-1, ...]. */
export function withPrior(
  image: Tensor,
  prior: Tensor,
  record: PreprocessRecord,
  numClasses: number,
): Tensor {
  return tidy(() => cat([image, priorChannels(prior, record, numClasses)], 0));
}
