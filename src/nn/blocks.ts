// U-Net building blocks, named as nnU-Net's dynamic_network_architectures names them, so state
// dicts read naturally next to nnU-Net checkpoints (conv / norm / nonlin, convs.N, conv1 / conv2 / skip).
import { F, tidy, type Tensor } from '../engine/index.js';
import { Conv, Dropout, InstanceNorm, BatchNorm, GroupNorm, AvgPool } from './layers.js';
import { Module, Sequential, Identity, replace } from './module.js';

export type NormKind = 'instance' | 'batch' | 'group' | 'none';

export interface BlockConfig {
  dims: number;
  norm: NormKind;
  /** LeakyReLU slope (nnU-Net: 0.01). */
  slope: number;
  convBias: boolean;
  dropout: number;
}

export const defaultBlockConfig = (dims: number): BlockConfig => ({
  dims,
  norm: 'instance',
  slope: 0.01,
  convBias: true,
  dropout: 0,
});

export function makeNorm(kind: NormKind, channels: number): Module {
  switch (kind) {
    case 'instance':
      return new InstanceNorm(channels, 1e-5, true);
    case 'batch':
      return new BatchNorm(channels);
    case 'group':
      return new GroupNorm(Math.max(1, Math.min(32, channels / 8)), channels);
    case 'none':
      return new Identity();
  }
}

/** conv → (dropout) → norm → LeakyReLU (the activation optional: residual blocks add first). */
export class ConvNormAct extends Module {
  readonly conv: Conv;
  readonly dropout: Dropout | null;
  readonly norm: Module;
  readonly withNonlin: boolean;
  readonly slope: number;

  constructor(
    inCh: number,
    outCh: number,
    kernel: number[],
    stride: number[],
    c: BlockConfig,
    nonlin = true,
  ) {
    super();
    this.conv = this.child('conv', new Conv(inCh, outCh, { dims: c.dims, kernel, stride, bias: c.convBias }));
    this.dropout = c.dropout > 0 ? this.child('dropout', new Dropout(c.dropout)) : null;
    this.norm = this.child('norm', makeNorm(c.norm, outCh));
    this.withNonlin = nonlin;
    this.slope = c.slope;
  }

  forward(x: Tensor): Tensor {
    let y = this.conv.forward(x);
    if (this.dropout) y = replace(y, this.dropout.forward(y), x);
    if (this.withNonlin && this.norm instanceof InstanceNorm) {
      return replace(
        y,
        F.instanceNormLeakyRelu(y, this.norm.weight, this.norm.bias, this.norm.eps, this.slope),
        x,
      );
    }
    y = replace(y, this.norm.forward(y), x);
    // In place: the norm output is not needed by its own backward, so this saves one activation.
    return this.withNonlin ? replace(y, F.leakyRelu_(y, this.slope), x) : y;
  }
}

/** n ConvNormAct blocks; the first one carries the stage's stride. */
export class StackedConvBlocks extends Module {
  readonly convs: Sequential;
  constructor(
    n: number,
    inCh: number,
    outCh: number,
    kernel: number[],
    firstStride: number[],
    c: BlockConfig,
  ) {
    super();
    const blocks: Module[] = [];
    for (let i = 0; i < n; i++) {
      blocks.push(
        new ConvNormAct(
          i === 0 ? inCh : outCh,
          outCh,
          kernel,
          i === 0 ? firstStride : kernel.map(() => 1),
          c,
        ),
      );
    }
    this.convs = this.child('convs', new Sequential(...blocks));
  }
  forward(x: Tensor): Tensor {
    return this.convs.forward(x);
  }
}

/** Squeeze-and-excitation: channel gates from global average pooling through a bottleneck. */
export class SqueezeExcite extends Module {
  readonly fc1: Conv;
  readonly fc2: Conv;
  constructor(channels: number, dims: number, reduction = 1 / 16) {
    super();
    const hidden = Math.max(1, Math.round(channels * reduction));
    this.fc1 = this.child('fc1', new Conv(channels, hidden, { dims, kernel: 1 }));
    this.fc2 = this.child('fc2', new Conv(hidden, channels, { dims, kernel: 1 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const s = F.adaptiveAvgPool(x, 1);
      const g = F.sigmoid(this.fc2.forward(F.relu(this.fc1.forward(s))));
      return x.mul(g);
    });
  }
}

/**
 * Residual block (ResNet-D style): conv1 (with stride) → conv2 (no activation) [→ SE] + skip → act.
 * The skip averages-pools by the stride and projects with a 1×1 conv + norm when channels change.
 */
export class ResidualBlock extends Module {
  readonly conv1: ConvNormAct;
  readonly conv2: ConvNormAct;
  readonly skip: Sequential;
  readonly se: SqueezeExcite | null;
  readonly slope: number;

  constructor(
    inCh: number,
    outCh: number,
    kernel: number[],
    stride: number[],
    c: BlockConfig,
    squeezeExcite: boolean,
  ) {
    super();
    this.conv1 = this.child('conv1', new ConvNormAct(inCh, outCh, kernel, stride, c));
    this.conv2 = this.child(
      'conv2',
      new ConvNormAct(
        outCh,
        outCh,
        kernel,
        kernel.map(() => 1),
        c,
        false,
      ),
    );
    const skip: Module[] = [];
    if (stride.some((s) => s !== 1)) skip.push(new AvgPool(stride));
    if (inCh !== outCh) {
      skip.push(
        new ConvNormAct(
          inCh,
          outCh,
          kernel.map(() => 1),
          kernel.map(() => 1),
          { ...c, convBias: false },
          false,
        ),
      );
    }
    this.skip = this.child('skip', new Sequential(...skip));
    this.se = squeezeExcite ? this.child('squeeze_excitation', new SqueezeExcite(outCh, c.dims)) : null;
    this.slope = c.slope;
  }

  forward(x: Tensor): Tensor {
    const h = this.conv1.forward(x);
    let y = replace(h, this.conv2.forward(h), x);
    if (this.se) y = replace(y, this.se.forward(y), x);
    const skip = this.skip.forward(x);
    const sum = replace(y, y.add(skip), x);
    replace(skip, sum, x);
    return replace(sum, F.leakyRelu_(sum, this.slope), x);
  }
}

export class StackedResidualBlocks extends Module {
  readonly blocks: Sequential;
  constructor(
    n: number,
    inCh: number,
    outCh: number,
    kernel: number[],
    firstStride: number[],
    c: BlockConfig,
    squeezeExcite: boolean,
  ) {
    super();
    const blocks: Module[] = [];
    for (let i = 0; i < n; i++) {
      blocks.push(
        new ResidualBlock(
          i === 0 ? inCh : outCh,
          outCh,
          kernel,
          i === 0 ? firstStride : kernel.map(() => 1),
          c,
          squeezeExcite,
        ),
      );
    }
    this.blocks = this.child('blocks', new Sequential(...blocks));
  }
  forward(x: Tensor): Tensor {
    return this.blocks.forward(x);
  }
}
