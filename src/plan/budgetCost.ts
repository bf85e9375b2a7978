// The arithmetic of one training step of a U-Net (multiply-adds of its convolutions, forward and
// backward), and the step-time model fitted to a calibration: seconds = overhead + cost / rate.
// Convolutions dominate a 3D U-Net's step on a CPU, so a few small measured networks predict the
// large ones that would take minutes to measure.
import type { UNetSpec } from '../nn/unet.js';

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Floating-point operations of one training step (forward + backward ≈ 3 × forward), GFLOP. */
export function stepGflop(spec: UNetSpec, patch: readonly number[], batch: number): number {
  const n = spec.features.length;
  const voxels: number[] = [];
  let v = prod(patch);
  for (let s = 0; s < n; s++) {
    v /= prod(spec.strides[s]!);
    voxels.push(v);
  }
  const convsPerEncoderBlock = spec.architecture === 'residual' ? 2 : 1;
  let fwd = 0; // multiply-adds
  let inCh = spec.inputChannels;
  for (let s = 0; s < n; s++) {
    const f = spec.features[s]!;
    const k = prod(spec.kernelSizes[s]!);
    const convs = spec.encoderBlocks[s]! * convsPerEncoderBlock;
    fwd += voxels[s]! * k * (inCh * f + (convs - 1) * f * f);
    inCh = f;
  }
  for (let s = n - 2; s >= 0; s--) {
    const f = spec.features[s]!;
    const k = prod(spec.kernelSizes[s]!);
    // transposed conv (kernel = stride: one tap per output voxel), then the concatenation's conv
    fwd += voxels[s]! * spec.features[s + 1]! * f;
    fwd += voxels[s]! * k * (2 * f * f + (spec.decoderConvs[s]! - 1) * f * f);
    fwd += voxels[s]! * f * spec.numClasses; // segmentation head (deep supervision: every stage)
  }
  return (3 * 2 * fwd * batch) / 1e9;
}

export interface CalibrationPoint {
  /** What was measured, e.g. "32x32x32 f16 b2". */
  name: string;
  gflop: number;
  seconds: number;
}

export interface StepTimeModel {
  /** Seconds per step that do not scale with the convolutions (loss, optimiser, dispatch). */
  overheadSeconds: number;
  /** Effective GFLOP per second of training steps on this machine and precision. */
  gflopPerSecond: number;
}

/** Least-squares line through the points (overhead ≥ 0: through the origin when it would be < 0). */
export function fitStepTime(points: readonly CalibrationPoint[]): StepTimeModel {
  if (!points.length) throw new Error('step-time model: no calibration points');
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.gflop, 0) / n;
  const my = points.reduce((a, p) => a + p.seconds, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.gflop - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.gflop - mx) * (p.seconds - my), 0);
  let slope = sxx > 0 ? sxy / sxx : 0;
  let overhead = my - slope * mx;
  if (!(slope > 0) || overhead < 0) {
    overhead = 0;
    slope =
      points.reduce((a, p) => a + p.gflop * p.seconds, 0) / points.reduce((a, p) => a + p.gflop ** 2, 0);
  }
  return { overheadSeconds: overhead, gflopPerSecond: 1 / slope };
}

export function predictStepSeconds(model: StepTimeModel, gflop: number): number {
  return model.overheadSeconds + gflop / model.gflopPerSecond;
}
