// Resampling to a target spacing. Images: linear, or cubic in-plane; labels: nearest, or linear
// interpolation of each class's one-hot mask then argmax (smoother borders, no lost thin parts).
// For anisotropic data the coarse (out-of-plane) axis is resampled on its own with nearest
// neighbour, as nnU-Net does, so that thick slices are not smeared into each other.
import { tidy, noGrad, F, stack, type Tensor } from '../engine/index.js';

export type ImageInterpolation = 'linear' | 'cubic';
export type LabelInterpolation = 'nearest' | 'linear';

import { separateAxis } from './resampleShape.js';
export { ANISOTROPY_THRESHOLD, resampledShape, separateAxis } from './resampleShape.js';

function interpolateSpatial(x: Tensor, size: number[], mode: 'linear' | 'nearest'): Tensor {
  // x [C, ...spatial] float → [C, ...size]
  return F.interpolate(x.unsqueeze(0), size, mode, false).squeeze(0);
}

/** Bicubic within each slice along `axis` (for 3D), with the slice axis left as is. */
function cubicInPlane(x: Tensor, size: number[], axis: number): Tensor {
  const slices = x.shape[axis + 1]!;
  const inPlane = size.filter((_, d) => d !== axis);
  const out: Tensor[] = [];
  for (let k = 0; k < slices; k++) {
    const s = x.select(axis + 1, k).unsqueeze(0); // [1, C, a, b]
    out.push(F.interpolate(s, inPlane, 'bicubic', false).squeeze(0));
  }
  return stack(out, axis + 1);
}

/** Resamples image [C, ...spatial] (any float dtype) to `size`; returns float32. */
export function resampleImage(
  image: Tensor,
  size: number[],
  spacing: number[],
  mode: ImageInterpolation = 'linear',
): Tensor {
  return tidy(() =>
    noGrad(() => {
      const x = image.float();
      if (size.every((s, d) => s === image.shape[d + 1])) return x.clone();
      const axis = separateAxis(spacing);
      const nd = x.ndim - 1;
      if (mode === 'cubic' && nd === 3) {
        // bicubic within slices (along the coarse axis, or z), then that axis alone
        const sliceAxis = axis < 0 ? 0 : axis;
        const inPlane = size.map((s, d) => (d === sliceAxis ? x.shape[d + 1]! : s));
        const a = cubicInPlane(x, inPlane, sliceAxis);
        return a.shape[sliceAxis + 1] === size[sliceAxis]
          ? a
          : interpolateSpatial(a, size, axis < 0 ? 'linear' : 'nearest');
      }
      if (mode === 'cubic') return F.interpolate(x.unsqueeze(0), size, 'bicubic', false).squeeze(0);
      if (axis < 0) return interpolateSpatial(x, size, 'linear');
      // in-plane first (keeping the slice count), then the coarse axis alone with nearest
      const inPlane = size.map((s, d) => (d === axis ? x.shape[d + 1]! : s));
      const a = interpolateSpatial(x, inPlane, 'linear');
      return a.shape[axis + 1] === size[axis] ? a : interpolateSpatial(a, size, 'nearest');
    }),
  );
}

/** Resamples an integer label map [...spatial] to `size`; returns int64. */
export function resampleLabels(
  labels: Tensor,
  size: number[],
  spacing: number[],
  numClasses: number,
  mode: LabelInterpolation = 'linear',
): Tensor {
  return tidy(() =>
    noGrad(() => {
      if (size.every((s, d) => s === labels.shape[d])) return labels.to('int64');
      const axis = separateAxis(spacing);
      if (mode === 'nearest') {
        return interpolateSpatial(labels.unsqueeze(0).float(), size, 'nearest')
          .squeeze(0)
          .round()
          .to('int64');
      }
      const onehot = F.oneHot(labels.to('int64'), numClasses);
      const nd = labels.ndim;
      const chFirst = onehot.permute(nd, ...Array.from({ length: nd }, (_, i) => i)).float();
      let soft: Tensor;
      if (axis < 0) soft = interpolateSpatial(chFirst, size, 'linear');
      else {
        const inPlaneSize = size.map((s, d) => (d === axis ? labels.shape[d]! : s));
        const a = interpolateSpatial(chFirst, inPlaneSize, 'linear');
        soft = a.shape[axis + 1] === size[axis] ? a : interpolateSpatial(a, size, 'nearest');
      }
      return soft.argmax(0);
    }),
  );
}
