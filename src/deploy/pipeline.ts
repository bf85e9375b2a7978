// The prediction pipeline of an ONNX export on plain arrays, with no Node or engine import: one
// configuration's folds (sliding window, optional mirroring, softmax, averaged) in the image's grid,
// a cascade's stages in order, the members ensembled, the argmax as label values. onnxruntime-node
// (predictOnnx.ts) and onnxruntime-web (the in-browser page, web/src/segment.ts) each supply the
// networks; the crop variant of the cascade needs a box finder (cascadeBoxes, which uses the engine's
// connected components), so the caller passes one where it has it.
import type { ConfigurationName } from '../plan/planner.js';
import type { ExportManifest, ExportedConfiguration } from '../export/manifest.js';
import { numel, pasteBox, cropVolume, type BBox, type ChannelVolume } from './arrays.js';
import { preprocessArrays, priorChannelsArray, revertProbabilitiesArray } from './preprocess.js';
import { slidingWindowLogitsArray, softmaxChannels, type WindowNetwork } from './slidingWindow.js';

export type { WindowNetwork } from './slidingWindow.js';

export interface LoadedConfiguration {
  config: ExportedConfiguration;
  nets: WindowNetwork[];
}

/** Boxes for the crop variant of the cascade: stage 1's class indices → regions to predict. */
export type CascadeBoxFinder = (
  stage1: Uint8Array | Uint16Array,
  shape: number[],
  spacing: number[],
  config: ExportedConfiguration,
) => BBox[];

export interface PredictorOptions {
  mirror: boolean;
  cascadeBoxes?: CascadeBoxFinder;
  /** Called after each network call of the sliding window (windows done, windows in all). */
  progress?: (done: number, total: number) => void;
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

export class Predictor {
  private readonly mirror: boolean;
  constructor(
    private readonly m: ExportManifest,
    private readonly loaded: Map<string, LoadedConfiguration>,
    private readonly o: PredictorOptions,
  ) {
    this.mirror = o.mirror;
  }

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
        if (!this.o.cascadeBoxes)
          throw new Error(
            `${name}: the crop variant of the cascade is not supported here (medseg predict runs it)`,
          );
        const boxes = this.o.cascadeBoxes(stage1, image.shape, spacing, config);
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
      crop: config.crop,
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
              progress: this.o.progress,
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
    net: WindowNetwork,
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

/** The members' probabilities [K, ...image] averaged (each configuration computed once). */
export async function ensembleProbabilities(
  predictor: Predictor,
  members: ConfigurationName[],
  image: ChannelVolume,
  spacing: number[],
): Promise<ChannelVolume> {
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
  return probs;
}

/** Class indices as label values: uint8 when every value fits, else int16. */
export function labelValuesOf(
  idx: Uint8Array | Uint16Array,
  values: number[],
): { labels: Uint8Array | Int16Array; datatype: 'uint8' | 'int16' } {
  const small = values.every((v) => v >= 0 && v < 256);
  const labels = small ? new Uint8Array(idx.length) : new Int16Array(idx.length);
  for (let i = 0; i < idx.length; i++) labels[i] = values[idx[i]!]!;
  return { labels, datatype: small ? 'uint8' : 'int16' };
}
