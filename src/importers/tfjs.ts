// TensorFlow.js layers models (model.json + weight shards, as brainchop ships its MeshNets) read into
// a MeshNet: a chain of Conv3D ('same' padding, stride 1, optional dilation) and activations
// (relu, elu, gelu, linear), channels last. Weights go from TF's [kd, kh, kw, in, out] to PyTorch's
// [out, in, kd, kh, kw] — with `transpose` (brainchop's enableTranspose: the volume is fed as
// [x, y, z], the reverse of medseg's [z, y, x]) the kernel's spatial axes are reversed too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshNetActivation, MeshNetLayer, MeshNetSpec } from '../nn/meshnet.js';

interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

export interface TfjsModel {
  spec: MeshNetSpec;
  /** Weights in medseg's layout, named as MeshNet's state dict (convs.<i>.weight / .bias). */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  /** The spatial input shape the model declares (TF order), when fixed. */
  inputShape: number[] | null;
  /** Class names from brainchop's colormap.json beside the model, when present. */
  labelNames: string[] | null;
}

export class TfjsImportError extends Error {}

const ACTIVATIONS: MeshNetActivation[] = ['relu', 'elu', 'gelu', 'linear'];

export function readTfjsModel(modelJson: string, o: { transpose?: boolean } = {}): TfjsModel {
  const bad = (why: string) => new TfjsImportError(`${modelJson}: ${why}`);
  if (!existsSync(modelJson)) throw bad('no such file');
  let m: {
    format?: string;
    modelTopology?: {
      model_config?: { config?: { layers?: KerasLayer[] } };
      config?: { layers?: KerasLayer[] };
    };
    weightsManifest?: { paths: string[]; weights: WeightSpec[] }[];
  };
  try {
    m = JSON.parse(readFileSync(modelJson, 'utf8')) as typeof m;
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== 'layers-model')
    throw bad(`format '${String(m.format)}' (only TensorFlow.js layers models are read)`);
  const layers = m.modelTopology?.model_config?.config?.layers ?? m.modelTopology?.config?.layers;
  if (!Array.isArray(layers) || !layers.length) throw bad('no layers in modelTopology');
  // weights: every shard of every group, concatenated in manifest order
  const specs: WeightSpec[] = [];
  const buffers: Buffer[] = [];
  for (const g of m.weightsManifest ?? []) {
    for (const p of g.paths) {
      const f = path.join(path.dirname(modelJson), p);
      if (!existsSync(f)) throw bad(`weight file ${f} is missing`);
      buffers.push(readFileSync(f));
    }
    specs.push(...g.weights);
  }
  const all = Buffer.concat(buffers);
  const raw = new Map<string, { shape: number[]; data: Float32Array }>();
  let at = 0;
  for (const w of specs) {
    if (w.dtype !== 'float32' || w.quantization)
      throw bad(`weight ${w.name}: ${w.dtype}${w.quantization ? ' quantised' : ''} (only float32)`);
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (at + 4 * n > all.length) throw bad(`the weight files end inside ${w.name} (${all.length} bytes)`);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(all.subarray(at, at + 4 * n));
    raw.set(w.name, { shape: w.shape, data });
    at += 4 * n;
  }
  if (at !== all.length) throw bad(`the weight files hold ${all.length} bytes, the manifest ${at}`);

  const convs: MeshNetLayer[] = [];
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  let inputShape: number[] | null = null;
  let inputChannels = 1;
  let previous: string | null = null;
  for (const l of layers) {
    const c = l.config;
    const name = (l.name ?? c.name) as string;
    const inbound = JSON.stringify(l.inbound_nodes ?? []);
    if (previous && l.inbound_nodes && !inbound.includes(`"${previous}"`))
      throw bad(`layer ${name} does not follow ${previous}: only plain chains (MeshNet) are read`);
    previous = name;
    if (l.class_name === 'InputLayer') {
      const s = c.batch_input_shape as (number | null)[];
      if (s.length !== 5)
        throw bad(`input ${JSON.stringify(s)}: a 3D volume [batch, d, h, w, channels] is expected`);
      inputShape = s.slice(1, 4).every((v) => typeof v === 'number') ? (s.slice(1, 4) as number[]) : null;
      inputChannels = s[4] ?? 1;
    } else if (l.class_name === 'Conv3D') {
      if (c.data_format !== 'channels_last') throw bad(`${name}: data_format ${String(c.data_format)}`);
      if (c.padding !== 'same') throw bad(`${name}: padding ${String(c.padding)} (only 'same')`);
      if ((c.strides as number[]).some((s) => s !== 1))
        throw bad(`${name}: strides ${String(c.strides)} (only 1)`);
      if ((c.groups as number | undefined) !== undefined && c.groups !== 1)
        throw bad(`${name}: groups ${String(c.groups)}`);
      const act = c.activation as MeshNetActivation;
      if (!ACTIVATIONS.includes(act)) throw bad(`${name}: activation ${String(act)}`);
      const kernel = raw.get(`${name}/kernel`);
      if (!kernel) throw bad(`${name}: no weight ${name}/kernel`);
      const [kd, kh, kw, cin, cout] = kernel.shape as [number, number, number, number, number];
      // [kd, kh, kw, in, out] → [out, in, k0, k1, k2] (k reversed with transpose)
      const k = o.transpose ? [kw, kh, kd] : [kd, kh, kw];
      const w = new Float32Array(kernel.data.length);
      for (let a = 0; a < kd; a++)
        for (let b = 0; b < kh; b++)
          for (let e = 0; e < kw; e++) {
            const [p, q, r] = o.transpose ? [e, b, a] : [a, b, e];
            for (let i = 0; i < cin; i++)
              for (let j = 0; j < cout; j++)
                w[(((j * cin + i) * k[0]! + p) * k[1]! + q) * k[2]! + r] =
                  kernel.data[(((a * kh + b) * kw + e) * cin + i) * cout + j]!;
          }
      const idx = convs.length;
      weights.set(`convs.${idx}.weight`, { shape: [cout, cin, ...k], data: w });
      const bias = raw.get(`${name}/bias`);
      weights.set(`convs.${idx}.bias`, { shape: [cout], data: bias ? bias.data : new Float32Array(cout) });
      const dil = c.dilation_rate as number[];
      convs.push({
        outChannels: cout,
        kernel: k,
        dilation: o.transpose ? [...dil].reverse() : [...dil],
        activation: act,
      });
    } else if (l.class_name === 'Activation') {
      const act = c.activation as MeshNetActivation;
      if (!ACTIVATIONS.includes(act)) throw bad(`${name}: activation ${String(act)}`);
      const last = convs[convs.length - 1];
      if (!last || last.activation !== 'linear')
        throw bad(`${name}: an activation must follow a linear Conv3D`);
      last.activation = act;
    } else
      throw bad(`layer ${name}: ${l.class_name} is not supported (MeshNet: InputLayer, Conv3D, Activation)`);
  }
  if (!convs.length) throw bad('no Conv3D layer');
  const numClasses = convs[convs.length - 1]!.outChannels;
  let labelNames: string[] | null = null;
  const cm = path.join(path.dirname(modelJson), 'colormap.json');
  if (existsSync(cm)) {
    const labels = (JSON.parse(readFileSync(cm, 'utf8')) as { labels?: unknown }).labels;
    if (Array.isArray(labels) && labels.length === numClasses) labelNames = labels.map(String);
  }
  return {
    spec: { architecture: 'meshnet', dims: 3, inputChannels, numClasses, layers: convs },
    weights,
    inputShape: inputShape && o.transpose ? [...inputShape].reverse() : inputShape,
    labelNames,
  };
}
