// A trained configuration ready to predict: its networks (one per fold, ensembled by averaging
// probabilities) and the probabilities of one image in the image's own geometry. The cascade's
// second stage takes stage 1's label map too: as extra input channels (prior) or as the places to
// look (crop).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Tensor, tidy, noGrad, F, stack, zeros, useDevice, type AutocastDType } from '../engine/index.js';
import { UNet, loadCheckpoint } from '../nn/index.js';
import type { Plans, Configuration, ConfigurationName } from '../plan/planner.js';
import { preprocessCase, revertProbabilities } from '../preprocess/preprocessCase.js';
import { withPrior } from '../preprocess/prior.js';
import { cropTo } from '../grid/crop.js';
import { outputChannels } from '../plan/regions.js';
import { slidingWindowLogits } from './slidingWindow.js';
import { cropBoxes } from '../preprocess/cascadeBoxes.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

export interface ConfigModel {
  name: ConfigurationName;
  plans: Plans;
  config: Configuration;
  folds: number[];
  nets: UNet[];
}

export interface InferenceOptions {
  mirror?: boolean;
  autocast?: AutocastDType | null;
  /** Where the networks live (loadConfigModel's device); the probabilities come back on the CPU. */
  device?: string;
}

export function configurationOf(plans: Plans, name: ConfigurationName, plansFile: string): Configuration {
  const config = plans.configurations[name];
  if (!config) {
    throw new Error(
      `${plansFile}: no configuration '${name}' (it has ${Object.keys(plans.configurations).join(', ')})`,
    );
  }
  return config;
}

/** Loads the networks of `folds` (checkpoint latest, the default, or best) of one configuration. */
export async function loadConfigModel(
  modelDir: string,
  plans: Plans,
  name: ConfigurationName,
  folds: number[],
  checkpoint: CheckpointName = DEFAULT_CHECKPOINT,
  device = 'cpu',
): Promise<ConfigModel> {
  const config = configurationOf(plans, name, path.join(modelDir, 'plans.json'));
  const nets: UNet[] = [];
  try {
    for (const f of folds) {
      const file = path.join(modelDir, name, `fold_${f}`, `checkpoint_${checkpoint}.safetensors`);
      if (!existsSync(file)) throw new Error(`${file}: checkpoint missing (was ${name} fold ${f} trained?)`);
      const net = new UNet({ ...config.network, deepSupervision: false });
      nets.push(net);
      await loadCheckpoint(file, net);
      if (device !== 'cpu') net.to(device);
      net.eval();
    }
  } catch (e) {
    for (const n of nets) n.dispose();
    throw e;
  }
  return { name, plans, config, folds, nets };
}

export function disposeModel(m: ConfigModel): void {
  for (const n of m.nets) n.dispose();
}

/**
 * Class probabilities [K, z, y, x] (the image's own grid) of image [C, z, y, x] with spacing (z, y, x);
 * for region-based plans, one sigmoid probability per region [R, z, y, x] instead (regionLabelValues
 * turns them into labels). `prior` (class indices [z, y, x], same grid) is required by the prior
 * variant of the cascade.
 */
export function predictProbabilities(
  m: ConfigModel,
  image: Tensor,
  spacing: number[],
  o: InferenceOptions & { prior?: Tensor | null } = {},
): Tensor {
  const { config, plans } = m;
  const K = outputChannels(plans);
  if (o.device && o.device !== 'cpu') useDevice(o.device);
  return tidy(() =>
    noGrad(() => {
      const pre = preprocessCase(image, null, spacing, {
        targetSpacing: config.spacing,
        normalization: config.normalization,
        crop: config.crop,
        imageInterpolation: config.imageInterpolation,
        numClasses: K,
      });
      let input = pre.image;
      if (config.cascade?.variant === 'prior') {
        if (!o.prior)
          throw new Error(`${m.name}: the prior variant of the cascade needs stage 1's prediction`);
        input = withPrior(pre.image, o.prior, pre.record, K);
      }
      let sum: Tensor | null = null;
      for (const net of m.nets) {
        const logits =
          config.network.dims === 2
            ? slices2d(net, input, config.patch, K, o)
            : slidingWindowLogits(net, input, {
                patch: config.patch,
                numClasses: K,
                mirrorAxes: o.mirror ? [0, 1, 2] : [],
                autocast: o.autocast ?? null,
                device: o.device,
              });
        // the logits are averaged over windows (and mirrors) first, then made probabilities, as nnU-Net does
        const p = plans.regions ? logits.sigmoid() : F.softmax(logits, 0);
        logits.dispose();
        sum = sum ? sum.add_(p) : p;
      }
      if (m.nets.length > 1) sum!.div_(m.nets.length);
      // back to the CPU, where the preprocessing record's resampling runs
      return revertProbabilities(sum!.to('cpu'), pre.record, config.spacing, !plans.regions);
    }),
  );
}

/** 2d configurations: the network over every z slice (windows within each slice). */
function slices2d(net: UNet, image: Tensor, patch: number[], classes: number, o: InferenceOptions): Tensor {
  return tidy(() => {
    const outs: Tensor[] = [];
    for (let z = 0; z < image.shape[1]!; z++) {
      outs.push(
        slidingWindowLogits(net, image.select(1, z), {
          patch,
          numClasses: classes,
          mirrorAxes: o.mirror ? [0, 1] : [],
          autocast: o.autocast ?? null,
          device: o.device,
        }),
      );
    }
    return stack(outs, 1);
  });
}

/**
 * Stage 2 of the cascade given stage 1's label map (class indices, the image's grid): the prior
 * variant predicts the whole image with the prior channels; the crop variant predicts each box and
 * pastes it into a volume that is background everywhere else.
 */
export function cascadeProbabilities(
  stage2: ConfigModel,
  image: Tensor,
  spacing: number[],
  stage1: Tensor,
  o: InferenceOptions = {},
): Tensor {
  const variant = stage2.config.cascade?.variant;
  if (variant === 'prior') return predictProbabilities(stage2, image, spacing, { ...o, prior: stage1 });
  if (variant !== 'crop') throw new Error(`${stage2.name} is not a stage of the cascade`);
  const K = stage2.plans.labelValues.length;
  const boxes = cropBoxes(stage2.config, stage1, spacing);
  const out = zeros([K, ...image.shape.slice(1)]);
  tidy(() => out.narrow(0, 0, 1).fill_(1));
  for (const box of boxes) {
    tidy(() => {
      const p = predictProbabilities(stage2, cropTo(image, box), spacing, o);
      box.reduce((t, [lo, hi], d) => t.narrow(d + 1, lo, hi - lo), out).copy_(p);
    });
  }
  return out;
}
