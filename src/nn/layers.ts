// Basic layers with PyTorch's parameter names and layouts (weight, bias, running_mean, ...).
import { empty, F, ones, zeros, type Tensor } from '../engine/index.js';
import { defaultUniform_, fanIn } from './init.js';
import { Module } from './module.js';

const rep = (v: number | number[], n: number) => (Array.isArray(v) ? v : new Array<number>(n).fill(v));

export interface ConvConfig {
  /** 1, 2 or 3 spatial dims. */
  dims: number;
  kernel: number | number[];
  stride?: number | number[];
  /** Default: 'same' for odd kernels ((k - 1) / 2). */
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
  bias?: boolean;
}

export class Conv extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    c: ConvConfig,
  ) {
    super();
    const k = rep(c.kernel, c.dims);
    this.stride = rep(c.stride ?? 1, c.dims);
    this.padding = rep(c.padding ?? k.map((x) => (x - 1) >> 1), c.dims);
    this.dilation = rep(c.dilation ?? 1, c.dims);
    this.groups = c.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(
        `Conv: channels ${inChannels}→${outChannels} are not divisible by groups ${this.groups}`,
      );
    }
    this.weight = this.param('weight', empty([outChannels, inChannels / this.groups, ...k]));
    defaultUniform_(this.weight, fanIn(this.weight));
    this.bias = c.bias === false ? null : this.param('bias', empty([outChannels]));
    if (this.bias) defaultUniform_(this.bias, fanIn(this.weight));
  }

  forward(x: Tensor): Tensor {
    return F.conv(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/** Transposed convolution; weight [in, out/groups, k...] as PyTorch. */
export class ConvTranspose extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number[];
  readonly padding: number[];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    c: ConvConfig,
  ) {
    super();
    const k = rep(c.kernel, c.dims);
    this.stride = rep(c.stride ?? 1, c.dims);
    this.padding = rep(c.padding ?? 0, c.dims);
    this.weight = this.param('weight', empty([inChannels, outChannels, ...k]));
    // PyTorch computes fan_in of a transposed conv weight from its dim 1 (out channels).
    defaultUniform_(this.weight, fanIn(this.weight));
    this.bias = c.bias === false ? null : this.param('bias', empty([outChannels]));
    if (this.bias) defaultUniform_(this.bias, fanIn(this.weight));
  }

  forward(x: Tensor): Tensor {
    return F.convTranspose(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

export class InstanceNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    affine = true,
  ) {
    super();
    this.weight = affine ? this.param('weight', ones([channels])) : null;
    this.bias = affine ? this.param('bias', zeros([channels])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.instanceNorm(x, this.weight, this.bias, this.eps);
  }
}

export class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
    this.buffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    return F.batchNorm(
      x,
      this.weight,
      this.bias,
      this.runningMean,
      this.runningVar,
      this.training,
      this.momentum,
      this.eps,
    );
  }
}

export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class LeakyReLU extends Module {
  constructor(
    readonly slope = 0.01,
    readonly inplace = false,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? F.leakyRelu_(x, this.slope) : F.leakyRelu(x, this.slope);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p > 0 && this.training ? F.dropout(x, this.p, true) : x;
  }
}

export class AvgPool extends Module {
  constructor(readonly kernel: number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool(x, this.kernel, this.kernel);
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.weight = this.param('weight', empty([outFeatures, inFeatures]));
    defaultUniform_(this.weight, inFeatures);
    this.bias = bias ? this.param('bias', empty([outFeatures])) : null;
    if (this.bias) defaultUniform_(this.bias, inFeatures);
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}
