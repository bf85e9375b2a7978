// U-Nets built from a plain JSON spec (what a planner writes into plans.json): nnU-Net's
// PlainConvUNet and its residual-encoder variant, 2D or 3D, with deep supervision.
import { cat, type Tensor } from '../engine/index.js';
import { type BlockConfig, type NormKind, StackedConvBlocks, StackedResidualBlocks } from './blocks.js';
import { kaimingNormal_, zeros_ } from './init.js';
import { Conv, ConvTranspose } from './layers.js';
import { Module, ModuleList } from './module.js';

export interface UNetSpec {
  architecture: 'plain' | 'residual';
  /** 2 or 3 spatial dims. */
  dims: number;
  inputChannels: number;
  numClasses: number;
  /** Features per resolution stage, e.g. [32, 64, 128, 256, 320]. */
  features: number[];
  /** Kernel per stage, e.g. [[3,3,3], ...] or [[1,3,3], ...] along a coarse axis. */
  kernelSizes: number[][];
  /** Stride of each stage's first conv; stage 0 is usually all 1. */
  strides: number[][];
  /** Convs (plain) or residual blocks (residual) per encoder stage. */
  encoderBlocks: number[];
  /** Convs per decoder stage, deepest first (length = stages - 1). */
  decoderConvs: number[];
  deepSupervision: boolean;
  norm?: NormKind;
  squeezeExcitation?: boolean;
  /** LeakyReLU slope, default 0.01. */
  slope?: number;
}

/** Checks the spec's internal consistency; returns a list of problems (empty when valid). */
export function validateSpec(s: UNetSpec): string[] {
  const errs: string[] = [];
  const n = s.features.length;
  if (s.dims !== 2 && s.dims !== 3) errs.push(`dims must be 2 or 3, got ${s.dims}`);
  if (n < 2) errs.push('a U-Net needs at least 2 stages');
  for (const [name, arr, len] of [
    ['kernelSizes', s.kernelSizes, n],
    ['strides', s.strides, n],
    ['encoderBlocks', s.encoderBlocks, n],
    ['decoderConvs', s.decoderConvs, n - 1],
  ] as const) {
    if (!Array.isArray(arr) || arr.length !== len) errs.push(`${name} must have ${len} entries`);
  }
  for (const k of [...(s.kernelSizes ?? []), ...(s.strides ?? [])]) {
    if (!Array.isArray(k) || k.length !== s.dims || k.some((v) => !Number.isInteger(v) || v < 1)) {
      errs.push(`kernel sizes and strides must be ${s.dims} positive integers each`);
      break;
    }
  }
  if (s.inputChannels < 1 || s.numClasses < 1) errs.push('inputChannels and numClasses must be ≥ 1');
  return errs;
}

export class UNetEncoder extends Module {
  readonly stem: StackedConvBlocks | null;
  readonly stages: ModuleList;
  constructor(s: UNetSpec, c: BlockConfig) {
    super();
    const n = s.features.length;
    const stages: Module[] = [];
    if (s.architecture === 'residual') {
      const ones = s.kernelSizes[0]!.map(() => 1);
      this.stem = this.child(
        'stem',
        new StackedConvBlocks(1, s.inputChannels, s.features[0]!, s.kernelSizes[0]!, ones, c),
      );
      let inCh = s.features[0]!;
      for (let i = 0; i < n; i++) {
        stages.push(
          new StackedResidualBlocks(
            s.encoderBlocks[i]!,
            inCh,
            s.features[i]!,
            s.kernelSizes[i]!,
            s.strides[i]!,
            c,
            !!s.squeezeExcitation,
          ),
        );
        inCh = s.features[i]!;
      }
    } else {
      this.stem = null;
      let inCh = s.inputChannels;
      for (let i = 0; i < n; i++) {
        // nnU-Net wraps each stage's blocks in a Sequential: names read encoder.stages.<i>.0.convs.<j>
        stages.push(
          new ModuleSequential(
            new StackedConvBlocks(
              s.encoderBlocks[i]!,
              inCh,
              s.features[i]!,
              s.kernelSizes[i]!,
              s.strides[i]!,
              c,
            ),
          ),
        );
        inCh = s.features[i]!;
      }
    }
    this.stages = this.child('stages', new ModuleList(stages));
  }

  /** The skip features of every stage, highest resolution first. */
  forwardSkips(x: Tensor): Tensor[] {
    const stem = this.stem ? this.stem.forward(x) : x;
    let y = stem;
    const skips: Tensor[] = [];
    for (const st of this.stages.items) {
      y = st.forward(y);
      skips.push(y);
    }
    if (stem !== x) stem.dispose();
    return skips;
  }

  forward(x: Tensor): Tensor {
    const s = this.forwardSkips(x);
    return s[s.length - 1]!;
  }
}

/** A one-child Sequential (keeps nnU-Net's ".0." in parameter names). */
class ModuleSequential extends Module {
  readonly inner: Module;
  constructor(inner: Module) {
    super();
    this.inner = this.child('0', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

export class UNetDecoder extends Module {
  readonly stages: ModuleList<StackedConvBlocks>;
  readonly transpconvs: ModuleList<ConvTranspose>;
  readonly segLayers: ModuleList<Conv>;

  constructor(
    s: UNetSpec,
    c: BlockConfig,
    readonly deepSupervision: boolean,
  ) {
    super();
    const n = s.features.length;
    const stages: StackedConvBlocks[] = [];
    const ups: ConvTranspose[] = [];
    const segs: Conv[] = [];
    for (let d = 0; d < n - 1; d++) {
      // decoder stage d works at encoder resolution n-2-d
      const below = s.features[n - 1 - d]!;
      const skip = s.features[n - 2 - d]!;
      const stride = s.strides[n - 1 - d]!;
      ups.push(new ConvTranspose(below, skip, { dims: s.dims, kernel: stride, stride, bias: c.convBias }));
      const ones = stride.map(() => 1);
      stages.push(
        new StackedConvBlocks(s.decoderConvs[d]!, 2 * skip, skip, s.kernelSizes[n - 2 - d]!, ones, c),
      );
      segs.push(new Conv(skip, s.numClasses, { dims: s.dims, kernel: 1, bias: true }));
    }
    this.stages = this.child('stages', new ModuleList(stages));
    this.transpconvs = this.child('transpconvs', new ModuleList(ups));
    this.segLayers = this.child('seg_layers', new ModuleList(segs));
  }

  /**
   * Segmentation logits, full resolution first; only that one without deep supervision.
   * Consumes the skips: each is disposed once used (autograd keeps what backward needs).
   */
  forwardAll(skips: Tensor[]): Tensor[] {
    let low = skips[skips.length - 1]!;
    const outs: Tensor[] = [];
    const n = this.stages.items.length;
    for (let d = 0; d < n; d++) {
      const up = this.transpconvs.items[d]!.forward(low);
      const skip = skips[skips.length - 2 - d]!;
      const joined = cat([up, skip], 1);
      up.dispose();
      skip.dispose();
      const x = this.stages.items[d]!.forward(joined);
      joined.dispose();
      if (this.deepSupervision || d === n - 1) outs.push(this.segLayers.items[d]!.forward(x));
      low.dispose();
      low = x;
    }
    low.dispose();
    return outs.reverse();
  }

  forward(): Tensor {
    throw new Error('UNetDecoder.forward: use forwardAll(skips)');
  }
}

export class UNet extends Module {
  readonly encoder: UNetEncoder;
  readonly decoder: UNetDecoder;

  constructor(readonly spec: UNetSpec) {
    super();
    const errs = validateSpec(spec);
    if (errs.length) throw new Error(`invalid U-Net spec: ${errs.join('; ')}`);
    const c: BlockConfig = {
      dims: spec.dims,
      norm: spec.norm ?? 'instance',
      slope: spec.slope ?? 0.01,
      convBias: true,
      dropout: 0,
    };
    this.encoder = this.child('encoder', new UNetEncoder(spec, c));
    this.decoder = this.child('decoder', new UNetDecoder(spec, c, spec.deepSupervision));
    this.initHe(c.slope);
  }

  /** nnU-Net's InitWeights_He(1e-2): kaiming normal (a = 0.01) for every conv weight, zero biases. */
  private initHe(a: number): void {
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv || m instanceof ConvTranspose) {
        // torch's kaiming_normal_ takes fan_in from dim 1 for both conv kinds.
        kaimingNormal_(m.weight, a);
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  /** All deep-supervision outputs, full resolution first (one output without deep supervision). */
  forwardAll(x: Tensor): Tensor[] {
    return this.decoder.forwardAll(this.encoder.forwardSkips(x));
  }

  /** The full-resolution logits. */
  forward(x: Tensor): Tensor {
    const outs = this.forwardAll(x);
    for (const o of outs.slice(1)) o.dispose();
    return outs[0]!;
  }
}

/**
 * nnU-Net's 3d_fullres PlainConvUNet for a patch: stages = 1 + how often every axis can be halved
 * while ≥ 8 before halving (at most 6); features min(32·2^i, 320); 2 convs per stage everywhere.
 */
export function defaultPlainSpec(
  patch: number[],
  inputChannels: number,
  numClasses: number,
  maxStages = 6,
): UNetSpec {
  let halvings = 0;
  let p = [...patch];
  while (halvings + 1 < maxStages && p.every((v) => v >= 8)) {
    p = p.map((v) => v / 2);
    halvings++;
  }
  const n = halvings + 1;
  const dims = patch.length;
  const three = new Array<number>(dims).fill(3);
  return {
    architecture: 'plain',
    dims,
    inputChannels,
    numClasses,
    features: Array.from({ length: n }, (_, i) => Math.min(32 * 2 ** i, 320)),
    kernelSizes: Array.from({ length: n }, () => [...three]),
    strides: Array.from({ length: n }, (_, i) => new Array<number>(dims).fill(i === 0 ? 1 : 2)),
    encoderBlocks: new Array<number>(n).fill(2),
    decoderConvs: new Array<number>(n - 1).fill(2),
    deepSupervision: true,
  };
}
