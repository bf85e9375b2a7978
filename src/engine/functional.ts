// Neural-network functions (PyTorch's torch.nn.functional), 1D/2D/3D by the input's rank.
import { callT, Tensor } from './tensor.js';

const nd = (x: Tensor) => x.ndim - 2;
const rep = (v: number | number[], n: number) => (Array.isArray(v) ? v : new Array<number>(n).fill(v));

export interface ConvOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}

/** Convolution; weight [out, in/groups, k...]. CPU fp32 batch-1 calls are routed to oneDNN. */
export function conv(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}): Tensor {
  const n = weight.ndim - 2;
  return callT(
    'conv',
    x,
    weight,
    bias,
    rep(o.stride ?? 1, n),
    rep(o.padding ?? 0, n),
    rep(o.dilation ?? 1, n),
    o.groups ?? 1,
  );
}
export const conv3d = conv;
export const conv2d = conv;

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: number | number[];
}

/** Transposed convolution; weight [in, out/groups, k...] (PyTorch's layout). */
export function convTranspose(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  o: ConvTransposeOptions = {},
): Tensor {
  const n = weight.ndim - 2;
  return callT(
    'conv_transpose',
    x,
    weight,
    bias,
    rep(o.stride ?? 1, n),
    rep(o.padding ?? 0, n),
    rep(o.outputPadding ?? 0, n),
    rep(o.dilation ?? 1, n),
    o.groups ?? 1,
  );
}
export const convTranspose3d = convTranspose;
export const convTranspose2d = convTranspose;

export function maxPool(
  x: Tensor,
  kernel: number | number[],
  stride?: number | number[],
  padding: number | number[] = 0,
): Tensor {
  const n = nd(x);
  const op = n === 3 ? 'max_pool3d' : 'max_pool2d';
  return callT(op, x, rep(kernel, n), rep(stride ?? kernel, n), rep(padding, n));
}
export function avgPool(
  x: Tensor,
  kernel: number | number[],
  stride?: number | number[],
  padding: number | number[] = 0,
): Tensor {
  const n = nd(x);
  const op = n === 3 ? 'avg_pool3d' : 'avg_pool2d';
  return callT(op, x, rep(kernel, n), rep(stride ?? kernel, n), rep(padding, n));
}
export function adaptiveAvgPool(x: Tensor, size: number | number[]): Tensor {
  const n = nd(x);
  return callT(n === 3 ? 'adaptive_avg_pool3d' : 'adaptive_avg_pool2d', x, rep(size, n));
}

export type InterpolationMode = 'nearest' | 'linear' | 'bicubic';
/** Resizes the spatial dims to `size`; 'linear' is (tri/bi)linear by rank; nearest is PyTorch's legacy floor rule. */
export function interpolate(
  x: Tensor,
  size: number[],
  mode: InterpolationMode = 'linear',
  alignCorners = false,
): Tensor {
  return callT('interpolate', x, size, mode, mode === 'nearest' ? null : alignCorners);
}

/** Samples x [N,C,(D),H,W] at grid [N,(D),H,W,nd] of normalised coordinates in [-1, 1] (x, y, z order). */
export function gridSample(
  x: Tensor,
  grid: Tensor,
  mode: 'bilinear' | 'nearest' | 'bicubic' = 'bilinear',
  padding: 'zeros' | 'border' | 'reflection' = 'zeros',
  alignCorners = false,
): Tensor {
  return callT('grid_sample', x, grid, mode, padding, alignCorners);
}
/** theta [N, nd, nd+1] → sampling grid for gridSample. */
export const affineGrid = (theta: Tensor, size: number[], alignCorners = false): Tensor =>
  callT('affine_grid', theta, size, alignCorners);

/** Pads the last dims: [lastBefore, lastAfter, secondLastBefore, ...], as torch.nn.functional.pad. */
export const pad = (
  x: Tensor,
  p: number[],
  mode: 'constant' | 'reflect' | 'replicate' = 'constant',
  value = 0,
): Tensor => callT('pad', x, p, mode, value);

export const instanceNorm = (x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor =>
  callT('instance_norm', x, weight, bias, eps);
export const batchNorm = (
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  training: boolean,
  momentum = 0.1,
  eps = 1e-5,
): Tensor => callT('batch_norm', x, weight, bias, runningMean, runningVar, training, momentum, eps);
export const groupNorm = (
  x: Tensor,
  groups: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps = 1e-5,
): Tensor => callT('group_norm', x, groups, weight, bias, eps);
export const layerNorm = (
  x: Tensor,
  shape: number[],
  weight: Tensor | null,
  bias: Tensor | null,
  eps = 1e-5,
): Tensor => callT('layer_norm', x, shape, weight, bias, eps);

export const relu = (x: Tensor): Tensor => callT('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => callT('leaky_relu', x, slope);
/** In place: saves the memory of one activation (PyTorch allows it after conv/norm outputs). */
export const leakyRelu_ = (x: Tensor, slope = 0.01): Tensor => callT('leaky_relu_', x, slope);
export const sigmoid = (x: Tensor): Tensor => callT('sigmoid', x);
export const tanh = (x: Tensor): Tensor => callT('tanh', x);
export const gelu = (x: Tensor): Tensor => callT('gelu', x);
export const elu = (x: Tensor): Tensor => callT('elu', x);
export const softplus = (x: Tensor): Tensor => callT('softplus', x);
export const softmax = (x: Tensor, dim: number): Tensor => callT('softmax', x, dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => callT('log_softmax', x, dim);
export const dropout = (x: Tensor, p: number, training: boolean): Tensor => callT('dropout', x, p, training);

export type Reduction = 'none' | 'mean' | 'sum';
/** logits [N,C,...], target [N,...] int64 class indices. */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number } = {},
): Tensor {
  return callT(
    'cross_entropy',
    logits,
    target,
    o.weight ?? null,
    o.reduction ?? 'mean',
    o.ignoreIndex ?? -100,
    o.labelSmoothing ?? 0,
  );
}
export const nllLoss = (
  logProbs: Tensor,
  target: Tensor,
  reduction: Reduction = 'mean',
  weight?: Tensor,
): Tensor => callT('nll_loss', logProbs, target, weight ?? null, reduction);
export const mseLoss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor =>
  callT('mse_loss', a, b, reduction);
export const l1Loss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor =>
  callT('l1_loss', a, b, reduction);
export const bceWithLogits = (
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = 'mean',
  weight?: Tensor,
): Tensor => callT('binary_cross_entropy_with_logits', logits, target, weight ?? null, reduction);
/** Integer labels [...] → int64 one-hot [..., classes]. */
export const oneHot = (labels: Tensor, classes: number): Tensor => callT('one_hot', labels, classes);

/** x [..., in] · weight [out, in]ᵀ + bias. */
export const linear = (x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor =>
  callT('linear', x, weight, bias);

/**
 * leakyRelu(instanceNorm(x)) as one op with its own backward: same values and memory as the
 * in-place pair, without autograd's copy-back of a view (see native/src/fused.cc).
 */
export const instanceNormLeakyRelu = (
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps = 1e-5,
  slope = 0.01,
): Tensor => callT('instance_norm_leaky_relu', x, weight, bias, eps, slope);
