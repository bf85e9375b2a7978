// Prediction from an ONNX export folder with onnxruntime-node, no libtorch: the pipeline of
// src/infer/predict.ts on plain arrays — preprocessing, sliding window (mirroring optional), folds
// averaged, a cascade's stages in order, configurations ensembled, the post-processing, label maps
// written in each input's own geometry.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import type { ConfigurationName } from '../plan/planner.js';
import { findInputCases } from '../infer/inputs.js';
import { cascadeBoxes, minimumBoxSize } from '../preprocess/cascadeBoxes.js';
import { applyPostprocessing } from '../labelmap/postprocessing.js';
import { readManifest, type ExportManifest, type ExportedConfiguration } from '../export/manifest.js';
import { numel, pasteBox, cropVolume, type ChannelVolume } from './arrays.js';
import { preprocessArrays, priorChannelsArray, revertProbabilitiesArray } from './preprocess.js';
import { slidingWindowLogitsArray, softmaxChannels } from './slidingWindow.js';
import { OnnxNetwork } from './onnxNetwork.js';
import { readCase } from './readCase.js';

export interface OnnxPredictOptions {
  input: string;
  /** An output file (single input case) or folder. */
  output: string;
  /** An export folder (export.json and its ONNX files). */
  exportDir: string;
  /** One configuration of the export instead of its members. */
  config?: ConfigurationName;
  /** A subset of the exported folds (default: all). */
  folds?: number[];
  postprocess?: boolean;
  mirror?: boolean;
  saveProbabilities?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

export interface OnnxPredictResult {
  cases: { id: string; output: string; seconds: number }[];
}

interface LoadedConfiguration {
  config: ExportedConfiguration;
  nets: OnnxNetwork[];
}

/** The networks of every configuration `members` need (their earlier stages too). */
async function loadNetworks(
  dir: string,
  m: ExportManifest,
  members: ConfigurationName[],
  folds: number[] | undefined,
  threads: number | undefined,
): Promise<Map<string, LoadedConfiguration>> {
  const out = new Map<string, LoadedConfiguration>();
  const add = async (name: ConfigurationName) => {
    if (out.has(name)) return;
    const config = m.configurations.find((c) => c.name === name);
    if (!config)
      throw new Error(
        `${dir}: no configuration '${name}' exported (it has ${m.configurations.map((c) => c.name).join(', ')})`,
      );
    if (config.cascade) await add(config.cascade.previousStage);
    const chosen = folds ? config.folds.filter((f) => folds.includes(f.fold)) : config.folds;
    if (!chosen.length)
      throw new Error(
        `${dir}: ${name} has folds ${config.folds.map((f) => f.fold).join(', ')}, not ${folds!.join(', ')}`,
      );
    const entry: LoadedConfiguration = { config, nets: [] };
    out.set(name, entry);
    for (const f of chosen)
      entry.nets.push(
        await OnnxNetwork.load(path.join(dir, f.file), {
          threads,
          inputChannels: config.inputChannels,
          numClasses: config.numClasses,
          patch: config.patch,
        }),
      );
  };
  try {
    for (const name of members) await add(name);
  } catch (e) {
    for (const c of out.values()) for (const n of c.nets) await n.dispose();
    throw e;
  }
  return out;
}

/** Class index of the largest value per voxel (the first on ties, as argmax). */
export function argmaxChannels(p: ChannelVolume): Uint8Array | Uint16Array {
  const n = numel(p.shape);
  const out = p.channels < 256 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let max = p.data[i]!;
    for (let k = 1; k < p.channels; k++) {
      const v = p.data[k * n + i]!;
      if (v > max) {
        max = v;
        best = k;
      }
    }
    out[i] = best;
  }
  return out;
}

class Predictor {
  constructor(
    private readonly m: ExportManifest,
    private readonly loaded: Map<string, LoadedConfiguration>,
    private readonly mirror: boolean,
  ) {}

  /** Probabilities [K, ...image] of one configuration (earlier stages through `memo`). */
  async configuration(
    name: ConfigurationName,
    image: ChannelVolume,
    spacing: number[],
    memo: Map<string, ChannelVolume>,
  ): Promise<ChannelVolume> {
    const hit = memo.get(name);
    if (hit) return hit;
    const { config } = this.loaded.get(name)!;
    let p: ChannelVolume;
    if (config.cascade) {
      const stage1 = argmaxChannels(
        await this.configuration(config.cascade.previousStage, image, spacing, memo),
      );
      if (config.cascade.variant === 'prior') p = await this.probabilities(name, image, spacing, stage1);
      else {
        // crop variant: each box around stage 1's components predicted on its own, background elsewhere
        const boxes = cascadeBoxes(stage1, image.shape, {
          spacing,
          marginMm: config.cascade.marginMm,
          minSize: minimumBoxSize(config.patch, config.spacing, spacing),
        });
        const K = config.numClasses;
        const n = numel(image.shape);
        const out = new Float32Array(K * n);
        out.fill(1, 0, n);
        for (const box of boxes) {
          const q = await this.probabilities(name, cropVolume(image, box), spacing, null);
          pasteBox(
            out,
            K,
            image.shape,
            q,
            box.map(([lo]) => lo),
          );
        }
        p = { data: out, channels: K, shape: image.shape };
      }
    } else p = await this.probabilities(name, image, spacing, null);
    memo.set(name, p);
    return p;
  }

  /** One configuration's folds averaged, in the image's grid. */
  private async probabilities(
    name: ConfigurationName,
    image: ChannelVolume,
    spacing: number[],
    prior: Uint8Array | Uint16Array | null,
  ): Promise<ChannelVolume> {
    const { config, nets } = this.loaded.get(name)!;
    const pre = preprocessArrays(image, spacing, {
      targetSpacing: config.spacing,
      normalization: config.normalization,
      imageInterpolation: config.imageInterpolation,
    });
    let input = pre.image;
    if (config.cascade?.variant === 'prior') {
      if (!prior) throw new Error(`${name}: the prior variant of the cascade needs stage 1's prediction`);
      const ch = priorChannelsArray(Uint8Array.from(prior), pre.record, config.numClasses);
      const data = new Float32Array(input.data.length + ch.data.length);
      data.set(input.data);
      data.set(ch.data, input.data.length);
      input = { data, channels: input.channels + ch.channels, shape: input.shape };
    }
    const sw = this.m.slidingWindow;
    const K = config.numClasses;
    let sum: Float32Array | null = null;
    for (const net of nets) {
      const logits =
        config.dims === 2
          ? await this.slices2d(net, input, config)
          : await slidingWindowLogitsArray(net, input, {
              patch: config.patch,
              numClasses: K,
              step: sw.step,
              sigmaScale: sw.sigmaScale,
              batch: sw.batch,
              mirrorAxes: this.mirror ? sw.mirrorAxes3d : [],
            });
      const p = softmaxChannels(logits).data;
      if (!sum) sum = p;
      else for (let i = 0; i < sum.length; i++) sum[i] += p[i]!;
    }
    if (nets.length > 1) for (let i = 0; i < sum!.length; i++) sum![i] /= nets.length;
    return revertProbabilitiesArray(
      { data: sum!, channels: K, shape: input.shape },
      pre.record,
      config.spacing,
    );
  }

  /** 2d configurations: the network over every z slice. */
  private async slices2d(
    net: OnnxNetwork,
    image: ChannelVolume,
    config: ExportedConfiguration,
  ): Promise<ChannelVolume> {
    const [D, H, W] = image.shape as [number, number, number];
    const K = config.numClasses;
    const plane = H * W;
    const out = new Float32Array(K * D * plane);
    const slice = new Float32Array(image.channels * plane);
    const sw = this.m.slidingWindow;
    for (let z = 0; z < D; z++) {
      for (let c = 0; c < image.channels; c++)
        slice.set(image.data.subarray((c * D + z) * plane, (c * D + z + 1) * plane), c * plane);
      const l = await slidingWindowLogitsArray(
        net,
        { data: slice, channels: image.channels, shape: [H, W] },
        {
          patch: config.patch,
          numClasses: K,
          step: sw.step,
          sigmaScale: sw.sigmaScale,
          batch: sw.batch,
          mirrorAxes: this.mirror ? sw.mirrorAxes2d : [],
        },
      );
      for (let k = 0; k < K; k++) out.set(l.data.subarray(k * plane, (k + 1) * plane), (k * D + z) * plane);
    }
    return { data: out, channels: K, shape: [D, H, W] };
  }
}

export async function predictOnnx(o: OnnxPredictOptions): Promise<OnnxPredictResult> {
  const log = o.log ?? (() => {});
  const m = readManifest(o.exportDir);
  const members = o.config ? [o.config] : m.members;
  const post = o.postprocess === false || o.config ? null : m.postprocessing;
  log(
    `ONNX export ${o.exportDir}: ${members.join(' + ')}${post ? ', post-processing' : ''} (onnxruntime-node)`,
  );
  const loaded = await loadNetworks(o.exportDir, m, members, o.folds, o.threads);
  const predictor = new Predictor(m, loaded, !!o.mirror);
  const first = loaded.get(members[0]!)!.config;
  const results: OnnxPredictResult['cases'] = [];
  try {
    const cases = findInputCases(o.input);
    const single = cases.length === 1 && /\.(nii|nii\.gz|nrrd)$/i.test(o.output);
    if (!single) await mkdir(o.output, { recursive: true });
    for (const c of cases) {
      const t0 = performance.now();
      const out = single ? o.output : path.join(o.output, `${c.id}.nii.gz`);
      if (c.files.some((f) => path.resolve(f) === path.resolve(out)))
        throw new Error(`${out}: refusing to overwrite an input`);
      const { image, spacing, like } = await readCase(c, m.channelNames.length);
      const ratio = spacing.map((s, d) => s / first.spacing[d]!);
      if (ratio.some((r) => r > 4 || r < 0.25))
        log(
          `warning: ${c.files[0]}: spacing ${spacing.map((s) => s.toFixed(2)).join('x')} mm is far from the plan's ${first.spacing.map((s) => s.toFixed(2)).join('x')}`,
        );
      const memo = new Map<string, ChannelVolume>();
      for (const name of members) await predictor.configuration(name, image, spacing, memo);
      let probs = memo.get(members[0]!)!;
      if (members.length > 1) {
        const sum = probs.data.slice();
        for (const name of members.slice(1)) {
          const q = memo.get(name)!.data;
          for (let i = 0; i < sum.length; i++) sum[i] += q[i]!;
        }
        for (let i = 0; i < sum.length; i++) sum[i] /= members.length;
        probs = { ...probs, data: sum };
      }
      memo.clear();
      const idx = argmaxChannels(probs);
      const values = m.labelValues;
      const small = values.every((v) => v >= 0 && v < 256);
      let labels: Uint8Array | Int16Array = small ? new Uint8Array(idx.length) : new Int16Array(idx.length);
      for (let i = 0; i < idx.length; i++) labels[i] = values[idx[i]!]!;
      if (post) labels = applyPostprocessing(labels, image.shape, post);
      const labelVolume: Volume = {
        data: labels,
        shape: like.shape.slice(0, 3),
        spacing: like.spacing,
        affine: like.affine.map((r) => [...r]),
        datatype: small ? 'uint8' : 'int16',
        sclSlope: 1,
        sclInter: 0,
      };
      await writeImage(out, labelVolume);
      if (o.saveProbabilities)
        await writeImage(out.replace(/\.nii(\.gz)?$/, '') + '_probabilities.nii.gz', {
          ...like,
          data: probs.data,
          shape: [...like.shape.slice(0, 3), probs.channels],
          datatype: 'float32',
          sclSlope: 1,
          sclInter: 0,
        });
      const seconds = (performance.now() - t0) / 1000;
      results.push({ id: c.id, output: out, seconds });
      log(`${c.id} → ${out} (${seconds.toFixed(1)} s)`);
    }
  } finally {
    for (const c of loaded.values()) for (const n of c.nets) await n.dispose();
  }
  return { cases: results };
}
