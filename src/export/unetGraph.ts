// A medseg U-Net (plain or residual encoder, squeeze-and-excitation, 2D or 3D) as an ONNX graph,
// node by node from its modules, in inference form: deep supervision off, dropout gone, norms in
// eval mode. The input is one batch of windows [N, C, ...patch] (N symbolic, the patch fixed, as
// the sliding window feeds it); the output the full-resolution logits [N, K, ...patch].
//
// Transposed convolutions (the decoder's upsampling, kernel == stride) are exported as ONNX
// ConvTranspose, or with `convTranspose: 'depthToSpace'` as a 1×1(×1) convolution to C·s³ channels
// followed by Reshape/Transpose/Reshape (depth-to-space), for runtimes without ConvTranspose
// (onnxruntime-web's WebGPU backend today). Both give the same numbers up to float rounding.
import { tidy, type Tensor } from '../engine/index.js';
import {
  AvgPool,
  BatchNorm,
  Conv,
  ConvNormAct,
  ConvTranspose,
  Dropout,
  GroupNorm,
  Identity,
  InstanceNorm,
  ModuleList,
  ResidualBlock,
  Sequential,
  SqueezeExcite,
  StackedConvBlocks,
  StackedResidualBlocks,
  type Module,
  type UNet,
} from '../nn/index.js';
import type { ConvTransposeMode } from './manifest.js';
import { INPUT_NAME, OUTPUT_NAME } from './names.js';
import type { OnnxGraph, OnnxInitializer, OnnxNode, AttributeValue } from './onnx.js';

export interface UNetGraphOptions {
  /** Spatial size of one window (the configuration's patch). */
  patch: number[];
  convTranspose?: ConvTransposeMode;
  name?: string;
}

function floats(t: Tensor): Float32Array {
  return tidy(() => t.float().contiguous().toArray() as Float32Array);
}

/** A value flowing through the graph: its name, channels and (static) spatial size. */
interface Value {
  name: string;
  channels: number;
  spatial: number[];
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private count = 0;

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  weight(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  add(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, hint = op): string {
    const out = this.fresh(hint);
    this.nodes.push({ op, inputs, outputs: [out], name: out, attributes });
    return out;
  }
}

function convOut(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function emitConv(g: GraphBuilder, prefix: string, m: Conv, x: Value): Value {
  const w = g.weight(`${prefix}.weight`, [...m.weight.shape], floats(m.weight));
  const inputs = [x.name, w];
  if (m.bias) inputs.push(g.weight(`${prefix}.bias`, [...m.bias.shape], floats(m.bias)));
  const kernel = m.weight.shape.slice(2);
  const name = g.add(
    'Conv',
    inputs,
    {
      kernel_shape: kernel,
      strides: m.stride,
      pads: [...m.padding, ...m.padding],
      dilations: m.dilation,
      group: m.groups,
    },
    prefix,
  );
  return {
    name,
    channels: m.outChannels,
    spatial: x.spatial.map((s, d) => convOut(s, kernel[d]!, m.stride[d]!, m.padding[d]!, m.dilation[d]!)),
  };
}

function emitConvTranspose(
  g: GraphBuilder,
  prefix: string,
  m: ConvTranspose,
  x: Value,
  mode: ConvTransposeMode,
): Value {
  const kernel = m.weight.shape.slice(2);
  const cout = m.outChannels;
  const spatial = x.spatial.map((s, d) => (s - 1) * m.stride[d]! - 2 * m.padding[d]! + kernel[d]!);
  const depthToSpace =
    mode === 'depthToSpace' && kernel.every((k, d) => k === m.stride[d]) && m.padding.every((p) => p === 0);
  if (!depthToSpace) {
    const inputs = [x.name, g.weight(`${prefix}.weight`, [...m.weight.shape], floats(m.weight))];
    if (m.bias) inputs.push(g.weight(`${prefix}.bias`, [...m.bias.shape], floats(m.bias)));
    const name = g.add(
      'ConvTranspose',
      inputs,
      { kernel_shape: kernel, strides: m.stride, pads: [...m.padding, ...m.padding] },
      prefix,
    );
    return { name, channels: cout, spatial };
  }
  // y[n, co, z·sz + a, y·sy + b, x·sx + c] = Σ_ci W[ci, co, a, b, c] · x[n, ci, z, y, x] + bias[co]:
  // a 1×1 conv to channels (co, a, b, c), then those sub-positions moved into space.
  const S = kernel.reduce((a, b) => a * b, 1);
  const nd = kernel.length;
  const cin = m.inChannels;
  const W = floats(m.weight); // [cin, cout, ...k]
  const W2 = new Float32Array(cout * S * cin); // [cout·S, cin, 1...]
  for (let ci = 0; ci < cin; ci++)
    for (let co = 0; co < cout; co++)
      for (let s = 0; s < S; s++) W2[(co * S + s) * cin + ci] = W[(ci * cout + co) * S + s]!;
  const inputs = [x.name, g.weight(`${prefix}.weight_d2s`, [cout * S, cin, ...kernel.map(() => 1)], W2)];
  if (m.bias) {
    const b = floats(m.bias);
    const b2 = new Float32Array(cout * S);
    for (let co = 0; co < cout; co++) b2.fill(b[co]!, co * S, (co + 1) * S);
    inputs.push(g.weight(`${prefix}.bias_d2s`, [cout * S], b2));
  }
  const ones = kernel.map(() => 1);
  const zeros = kernel.map(() => 0);
  const conv = g.add(
    'Conv',
    inputs,
    { kernel_shape: ones, strides: ones, pads: [...zeros, ...zeros], dilations: ones, group: 1 },
    `${prefix}.d2s_conv`,
  );
  // [N, cout·S, ...X] → [N, cout, ...k, ...X] → [N, cout, X0, k0, X1, k1, ...] → [N, cout, ...X·k]
  const split = g.weight(
    `${prefix}.d2s_shape1`,
    [2 + 2 * nd],
    BigInt64Array.from([-1, cout, ...kernel, ...x.spatial].map(BigInt)),
  );
  const r1 = g.add('Reshape', [conv, split], {}, `${prefix}.d2s_reshape`);
  const perm = [0, 1];
  for (let d = 0; d < nd; d++) perm.push(2 + nd + d, 2 + d);
  const tr = g.add('Transpose', [r1], { perm }, `${prefix}.d2s_transpose`);
  const merged = g.weight(
    `${prefix}.d2s_shape2`,
    [2 + nd],
    BigInt64Array.from([-1, cout, ...spatial].map(BigInt)),
  );
  const name = g.add('Reshape', [tr, merged], {}, `${prefix}.d2s_merge`);
  return { name, channels: cout, spatial };
}

function emitNorm(g: GraphBuilder, prefix: string, m: Module, x: Value): Value {
  const C = x.channels;
  const ones = () => new Float32Array(C).fill(1);
  if (m instanceof Identity) return x;
  if (m instanceof InstanceNorm) {
    const scale = g.weight(`${prefix}.weight`, [C], m.weight ? floats(m.weight) : ones());
    const bias = g.weight(`${prefix}.bias`, [C], m.bias ? floats(m.bias) : new Float32Array(C));
    const name = g.add('InstanceNormalization', [x.name, scale, bias], { epsilon: { float: m.eps } }, prefix);
    return { ...x, name };
  }
  if (m instanceof BatchNorm) {
    const ins = [m.weight, m.bias, m.runningMean, m.runningVar].map((t, i) =>
      g.weight(`${prefix}.${['weight', 'bias', 'running_mean', 'running_var'][i]}`, [C], floats(t)),
    );
    const name = g.add('BatchNormalization', [x.name, ...ins], { epsilon: { float: m.eps } }, prefix);
    return { ...x, name };
  }
  if (m instanceof GroupNorm) {
    // [N, C, ...] → [N, G, -1], normalised per group (InstanceNormalization over the last axis),
    // back to the input's shape, then the per-channel affine.
    const G = m.groups;
    const grouped = g.add(
      'Reshape',
      [x.name, g.weight(`${prefix}.group_shape`, [3], BigInt64Array.from([0n, BigInt(G), -1n]))],
      {},
      `${prefix}.group`,
    );
    const normed = g.add(
      'InstanceNormalization',
      [
        grouped,
        g.weight(`${prefix}.group_scale`, [G], new Float32Array(G).fill(1)),
        g.weight(`${prefix}.group_bias`, [G], new Float32Array(G)),
      ],
      { epsilon: { float: m.eps } },
      `${prefix}.group_norm`,
    );
    const shape = g.add('Shape', [x.name], {}, `${prefix}.shape`);
    const back = g.add('Reshape', [normed, shape], {}, `${prefix}.ungroup`);
    const affine = [1, ...x.spatial.map(() => 1)];
    const mul = g.add(
      'Mul',
      [back, g.weight(`${prefix}.weight`, [C, ...affine.slice(1)], floats(m.weight))],
      {},
      `${prefix}.scale`,
    );
    const name = g.add(
      'Add',
      [mul, g.weight(`${prefix}.bias`, [C, ...affine.slice(1)], floats(m.bias))],
      {},
      `${prefix}.shift`,
    );
    return { ...x, name };
  }
  throw new Error(`ONNX export: unsupported norm module ${m.constructor.name} at ${prefix}`);
}

function emitConvNormAct(g: GraphBuilder, prefix: string, m: ConvNormAct, x: Value): Value {
  let y = emitConv(g, `${prefix}.conv`, m.conv, x);
  // dropout is the identity at inference
  y = emitNorm(g, `${prefix}.norm`, m.norm, y);
  if (m.withNonlin)
    y = { ...y, name: g.add('LeakyRelu', [y.name], { alpha: { float: m.slope } }, `${prefix}.nonlin`) };
  return y;
}

function emitSE(g: GraphBuilder, prefix: string, m: SqueezeExcite, x: Value): Value {
  const pooled = g.add('GlobalAveragePool', [x.name], {}, `${prefix}.pool`);
  const s: Value = { name: pooled, channels: x.channels, spatial: x.spatial.map(() => 1) };
  const h = emitConv(g, `${prefix}.fc1`, m.fc1, s);
  const r = g.add('Relu', [h.name], {}, `${prefix}.relu`);
  const o = emitConv(g, `${prefix}.fc2`, m.fc2, { ...h, name: r });
  const gate = g.add('Sigmoid', [o.name], {}, `${prefix}.gate`);
  return { ...x, name: g.add('Mul', [x.name, gate], {}, `${prefix}.excite`) };
}

function emitResidual(g: GraphBuilder, prefix: string, m: ResidualBlock, x: Value): Value {
  const h = emitConvNormAct(g, `${prefix}.conv1`, m.conv1, x);
  let y = emitConvNormAct(g, `${prefix}.conv2`, m.conv2, h);
  if (m.se) y = emitSE(g, `${prefix}.squeeze_excitation`, m.se, y);
  let skip = x;
  m.skip.layers.forEach((layer, i) => {
    skip = emitModule(g, `${prefix}.skip.${i}`, layer, skip);
  });
  const sum = g.add('Add', [y.name, skip.name], {}, `${prefix}.add`);
  return { ...y, name: g.add('LeakyRelu', [sum], { alpha: { float: m.slope } }, `${prefix}.nonlin`) };
}

/** Any module the U-Net is made of (the decoder and the U-Net itself are walked in unetGraph). */
function emitModule(g: GraphBuilder, prefix: string, m: Module, x: Value): Value {
  if (m instanceof Conv) return emitConv(g, prefix, m, x);
  if (m instanceof ConvNormAct) return emitConvNormAct(g, prefix, m, x);
  if (m instanceof StackedConvBlocks) return emitModule(g, `${prefix}.convs`, m.convs, x);
  if (m instanceof StackedResidualBlocks) return emitModule(g, `${prefix}.blocks`, m.blocks, x);
  if (m instanceof ResidualBlock) return emitResidual(g, prefix, m, x);
  if (m instanceof SqueezeExcite) return emitSE(g, prefix, m, x);
  if (m instanceof Sequential)
    return m.layers.reduce((v, layer, i) => emitModule(g, `${prefix}.${i}`, layer, v), x);
  if (m instanceof AvgPool) {
    const name = g.add('AveragePool', [x.name], { kernel_shape: m.kernel, strides: m.kernel }, prefix);
    return { ...x, name, spatial: x.spatial.map((s, d) => Math.floor(s / m.kernel[d]!)) };
  }
  if (m instanceof Dropout || m instanceof Identity) return x;
  // nnU-Net's one-child Sequential around a plain stage (".0." in names)
  const children = m.namedChildren();
  if (children.length === 1 && children[0]![0] === '0' && !(m instanceof ModuleList))
    return emitModule(g, `${prefix}.0`, children[0]![1], x);
  throw new Error(`ONNX export: unsupported module ${m.constructor.name} at ${prefix}`);
}

/** The ONNX graph of `net` (its weights as they are now) for windows of size `patch`. */
export function unetGraph(net: UNet, o: UNetGraphOptions): OnnxGraph {
  const s = net.spec;
  if (o.patch.length !== s.dims)
    throw new Error(
      `ONNX export: a ${s.dims}D network, but the patch [${o.patch}] has ${o.patch.length} dims`,
    );
  const g = new GraphBuilder();
  const mode = o.convTranspose ?? 'native';
  let x: Value = { name: INPUT_NAME, channels: s.inputChannels, spatial: [...o.patch] };
  const enc = net.encoder;
  if (enc.stem) x = emitModule(g, 'encoder.stem', enc.stem, x);
  const skips: Value[] = [];
  enc.stages.items.forEach((st, i) => {
    x = emitModule(g, `encoder.stages.${i}`, st, x);
    skips.push(x);
  });
  const dec = net.decoder;
  let low = skips[skips.length - 1]!;
  const n = dec.stages.items.length;
  for (let d = 0; d < n; d++) {
    const up = emitConvTranspose(g, `decoder.transpconvs.${d}`, dec.transpconvs.items[d]!, low, mode);
    const skip = skips[skips.length - 2 - d]!;
    if (up.spatial.join(',') !== skip.spatial.join(','))
      throw new Error(
        `ONNX export: patch [${o.patch}] does not divide evenly through the strides (decoder stage ${d}: [${up.spatial}] vs [${skip.spatial}])`,
      );
    const joined = g.add('Concat', [up.name, skip.name], { axis: 1 }, `decoder.concat.${d}`);
    low = emitModule(g, `decoder.stages.${d}`, dec.stages.items[d]!, {
      name: joined,
      channels: up.channels + skip.channels,
      spatial: skip.spatial,
    });
  }
  emitConv(g, `decoder.seg_layers.${n - 1}`, dec.segLayers.items[n - 1]!, low);
  // the last node (the segmentation conv) gives the graph's output
  g.nodes[g.nodes.length - 1]!.outputs = [OUTPUT_NAME];
  return {
    name: o.name ?? 'medseg_unet',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: INPUT_NAME, shape: ['N', s.inputChannels, ...o.patch] }],
    outputs: [{ name: OUTPUT_NAME, shape: ['N', s.numClasses, ...o.patch] }],
  };
}
