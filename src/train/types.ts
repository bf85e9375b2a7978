// What a training run is asked for, what it records per epoch, and what it carries across a resume.
import type { ConfigurationName } from '../plan/planner.js';
import type { UNet } from '../nn/index.js';
import type { GradScalerState } from '../optim/index.js';
import type { ProcessGroup } from '../distributed/index.js';
import type { CheckpointName } from './checkpointChoice.js';

export interface TrainOptions {
  dataset: string;
  modelDir: string;
  config?: ConfigurationName;
  fold?: number;
  epochs?: number;
  itersPerEpoch?: number;
  /** Wall-clock budget in seconds: the epoch count is refitted to the time left after every epoch. */
  budgetSeconds?: number;
  optimizer?: 'sgd' | 'adamw';
  initialLr?: number;
  /** Linear learning-rate warm-up over this many steps before the poly decay (default 0). */
  warmupSteps?: number;
  bf16?: boolean;
  /** float16 autocast with dynamic loss scaling (CUDA only; optim/gradScaler.ts). */
  fp16?: boolean;
  /** 'cpu' (default) or 'cuda[:N]', already resolved (engine/device.ts resolveDevice): network,
   * optimiser state and validation patches live there; batches cross once per step. */
  device?: string;
  seed?: number;
  resume?: boolean;
  memoryGb?: number;
  threads?: number;
  /** Weight of the (1 − soft Dice) term of the loss (default: the plan's lossWeights, else 1). */
  diceWeight?: number;
  /** Weight of the cross-entropy term of the loss (default: the plan's lossWeights, else 1). */
  ceWeight?: number;
  /** Share of each batch forced to contain foreground, 0…1 (default: the plan's, else nnU-Net's
   * 0.33; src/train/recipe.ts). */
  foregroundOversampling?: number;
  /** Augmentation strength, 0 (none) … 3; 1 is the standard augmentation (default: the plan's, else
   * 1). It multiplies every transform's probability (src/train/augment.ts). */
  augmentationStrength?: number;
  /** Validation patches per validation case. */
  valPatches?: number;
  /** Predict the fold's validation cases when training ends (default true; src/crossval/). */
  validate?: boolean;
  /** The checkpoint that predicts them (default 'latest', the last epoch: the validation cases then
   * do not choose the weights they score; src/train/checkpointChoice.ts). */
  validationCheckpoint?: CheckpointName;
  /** Called once on a new run's freshly initialised network (not on resume): fine-tuning loads
   * pre-trained weights here. */
  initialize?: (net: UNet) => void | Promise<void>;
  /** Called before every epoch (also after a resume): freezing and unfreezing go here. */
  beforeEpoch?: (epoch: number, net: UNet) => void;
  /** Called after every epoch, once its checkpoint is written; 'stop' ends the run there (search
   * trials pruned by ASHA). */
  onEpoch?: (e: EpochLog) => void | 'stop' | Promise<void | 'stop'>;
  log?: (s: string) => void;
  /** Data-parallel training: this process is one rank of `group` (src/distributed/). Every rank
   * samples its own batches; gradients are averaged over the ranks each step; rank 0 alone logs,
   * validates and writes checkpoints. */
  distributed?: DataParallel;
}

export interface DataParallel {
  group: ProcessGroup;
  /** Gradient bucket size (default 25 MiB, as PyTorch DDP). */
  bucketBytes?: number;
  /** How long the other ranks wait for rank 0 to prepare the data and open the run (default 6 h:
   * preprocessing a large dataset takes long; a rank that dies is stopped by its launcher). */
  openTimeoutSeconds?: number;
}

export interface EpochLog {
  epoch: number;
  train_loss: number;
  val_dice: number[];
  val_mean_dice: number;
  ema_dice: number;
  lr: number;
  seconds: number;
}

export interface TrainResult {
  foldDir: string;
  epochs: number;
  history: EpochLog[];
  bestEmaDice: number;
  /** True when onEpoch asked to stop before the planned epochs were done. */
  stoppedEarly?: boolean;
}

/** Stored in every checkpoint's metadata: what a resumed run continues from. */
export interface TrainState {
  epoch: number;
  totalEpochs: number;
  itersPerEpoch: number;
  /** The run's seed: the batch of global step s is a function of (seed, s) (see loader.ts). Older
   * checkpoints have none (and an `rng` field that is no longer read): the option's seed then. */
  seed?: number;
  bestEma: number;
  ema: number;
  config: ConfigurationName;
  fold: number;
  /** float16 runs: the loss scale, so that a resumed run continues with it. */
  gradScaler?: GradScalerState;
}

/** A new run's state: nothing trained yet, no best EMA. */
export function newTrainState(o: {
  epochs: number;
  itersPerEpoch: number;
  seed: number;
  config: ConfigurationName;
  fold: number;
}): TrainState {
  return {
    epoch: 0,
    totalEpochs: o.epochs,
    itersPerEpoch: o.itersPerEpoch,
    seed: o.seed,
    bestEma: -1,
    ema: NaN,
    config: o.config,
    fold: o.fold,
  };
}
