// How a trial's parameters become a plan and training options. Plan options (batch, patch scale,
// width, depth, residual/SE) edit a copy of the planned configuration the way the planner builds
// one (same topology rules, feature doubling and caps, residual presets); the recipe's knobs (Dice
// and CE weights, oversampling, augmentation strength) are written into the configuration too
// (lossWeights, foregroundOversampling, augmentationStrength), where train reads them and `search
// best --write-plans` hands them on; trainer options (lr, optimiser, epochs) go to train(). A
// combination the data cannot take — a depth the patch cannot pool to, a step over the plan's
// memory budget, a loss with both weights 0 — is a TrialPlanError with the reason: that trial
// fails, the study goes on. The result is checked against plans.json's schema as well.
import { planTopology } from '../plan/topology.js';
import { trainingBytesPerSample, type ConfigurationName, type Plans } from '../plan/planner.js';
import { validateSpec, type UNetSpec } from '../nn/unet.js';
import { validatePlans } from '../plan/schema.js';
import { DEFAULT_CE_WEIGHT, DEFAULT_DICE_WEIGHT } from '../train/recipe.js';
import type { Params } from './space.js';

export class TrialPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrialPlanError';
  }
}

export interface TrialTrainOptions {
  initialLr?: number;
  optimizer?: 'sgd' | 'adamw';
  epochs?: number;
  itersPerEpoch?: number;
}

/** The plans with the trial's plan options applied to configuration `configName`. */
export function applyParams(plans: Plans, configName: ConfigurationName, p: Params): Plans {
  const base = plans.configurations[configName];
  if (!base) throw new TrialPlanError(`the plans have no configuration '${configName}'`);
  const conf = structuredClone(base);
  const dims = conf.network.dims;
  const cap = dims === 3 ? 320 : 512;
  const num = (k: string): number | undefined => (p[k] === undefined ? undefined : Number(p[k]));
  const scale = num('patchScale');
  const depth = num('depth');
  const width = num('width');
  let spec: UNetSpec = conf.network;
  if (scale !== undefined || depth !== undefined || width !== undefined) {
    const spacing = conf.spacing.slice(-conf.patch.length);
    const patchIn =
      scale === undefined ? conf.patch : conf.patch.map((v) => Math.max(4, Math.round(v * scale)));
    const stages = depth ?? spec.features.length;
    const topo = planTopology(patchIn, spacing, stages);
    if (topo.strides.length < stages)
      throw new TrialPlanError(
        `depth ${stages}: a patch of [${patchIn.join(', ')}] can be pooled to at most ${topo.strides.length} stages`,
      );
    const f0 = width ?? spec.features[0]!;
    spec = {
      ...spec,
      features: Array.from({ length: stages }, (_, i) => Math.min(f0 * 2 ** i, cap)),
      kernelSizes: topo.kernelSizes,
      strides: topo.strides,
      encoderBlocks: new Array<number>(stages).fill(spec.encoderBlocks[0] ?? 2),
      decoderConvs: new Array<number>(stages - 1).fill(spec.decoderConvs[0] ?? 2),
    };
    conf.patch = topo.patch;
  }
  const se = p.se === undefined ? undefined : p.se === true;
  const residual = p.residual === undefined ? undefined : p.residual === true;
  if (residual === true || se === true) {
    // the planner's residual encoder preset: 1, 3, 4, 6, 6, … blocks per stage
    spec = {
      ...spec,
      architecture: 'residual',
      encoderBlocks: spec.features.map((_, i) => [1, 3, 4, 6][i] ?? 6),
      squeezeExcitation: se ?? spec.squeezeExcitation ?? false,
    };
  } else if (residual === false) {
    spec = {
      ...spec,
      architecture: 'plain',
      encoderBlocks: new Array<number>(spec.features.length).fill(2),
      squeezeExcitation: false,
    };
  } else if (se === false) spec = { ...spec, squeezeExcitation: false };
  conf.network = spec;
  const batch = num('batch');
  if (batch !== undefined) conf.batchSize = batch;
  const diceWeight = num('diceWeight');
  const ceWeight = num('ceWeight');
  if (diceWeight !== undefined || ceWeight !== undefined) {
    const w = {
      dice: diceWeight ?? conf.lossWeights?.dice ?? DEFAULT_DICE_WEIGHT,
      ce: ceWeight ?? conf.lossWeights?.ce ?? DEFAULT_CE_WEIGHT,
    };
    if (w.dice === 0 && w.ce === 0)
      throw new TrialPlanError('the Dice and CE weights are both 0: the loss would be 0 and nothing trains');
    conf.lossWeights = w;
  }
  const oversampling = num('oversampling');
  if (oversampling !== undefined) conf.foregroundOversampling = oversampling;
  const augmentation = num('augmentation');
  if (augmentation !== undefined) conf.augmentationStrength = augmentation;
  const problems = validateSpec(spec);
  if (problems.length) throw new TrialPlanError(`the network is invalid: ${problems.join('; ')}`);
  const bytes =
    trainingBytesPerSample(conf.patch, spec.features, spec.strides, spec.inputChannels) * conf.batchSize;
  if (bytes > plans.memoryGb * 2 ** 30)
    throw new TrialPlanError(
      `batch ${conf.batchSize} × patch [${conf.patch.join(', ')}] with width ${spec.features[0]} needs ~${(bytes / 2 ** 30).toFixed(1)} GB per step, over the plan's ${plans.memoryGb.toFixed(1)} GB`,
    );
  const out = { ...plans, configurations: { ...plans.configurations, [configName]: conf } };
  try {
    return validatePlans(out, "the trial's plans");
  } catch (e) {
    throw new TrialPlanError((e as Error).message);
  }
}

/** The trainer options among the parameters. */
export function trainOptionsOf(p: Params): TrialTrainOptions {
  const out: TrialTrainOptions = {};
  if (p.lr !== undefined) out.initialLr = Number(p.lr);
  if (p.optimizer !== undefined) out.optimizer = p.optimizer as 'sgd' | 'adamw';
  if (p.epochs !== undefined) out.epochs = Number(p.epochs);
  if (p.itersPerEpoch !== undefined) out.itersPerEpoch = Number(p.itersPerEpoch);
  return out;
}
