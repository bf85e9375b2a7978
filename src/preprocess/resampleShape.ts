// The shape arithmetic of resampling (target shape, the separately resampled axis), engine-free so
// that the ONNX Runtime path and the in-browser page share it with the libtorch resampler.
/** Ratio of the coarsest to the finest spacing above which an axis is treated separately. */
export const ANISOTROPY_THRESHOLD = 3;

/** Shape after resampling `shape` from `spacing` to `target` (array order, rounded, ≥ 1). */
export function resampledShape(shape: number[], spacing: number[], target: number[]): number[] {
  return shape.map((s, d) => Math.max(1, Math.round((s * spacing[d]!) / target[d]!)));
}

/** The axis to resample separately, or -1: the coarsest axis when it is ≥ 3× the finest. */
export function separateAxis(spacing: number[]): number {
  const max = Math.max(...spacing);
  const min = Math.min(...spacing);
  if (max / min < ANISOTROPY_THRESHOLD) return -1;
  const axis = spacing.indexOf(max);
  // two equally coarse axes: no single out-of-plane axis
  return spacing.filter((s) => s === max).length === 1 ? axis : -1;
}
