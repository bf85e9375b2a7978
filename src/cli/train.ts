// `medseg train DATASET --config 3d_fullres --fold F ...`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import {
  parseInteger,
  parseNumber,
  parseCheckpoint,
  COUNT_RANGE,
  FOLD_RANGE,
  LR_RANGE,
  MEMORY_GB_RANGE,
  SEED_RANGE,
  THREADS_RANGE,
  LOSS_WEIGHT_RANGE,
  OVERSAMPLING_RANGE,
  AUGMENTATION_RANGE,
} from './args.js';
import { parseDuration } from './duration.js';
import { assertWritableModelFolder } from '../train/preflight.js';
import { deviceOption, parseDeviceOption, DEVICE_HELP } from './device.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import type { TrainOptions } from '../train/types.js';
import { RANK_ARGS, RANK_HELP, rankPlan, launchTrainRanks, joinRank } from './ranks.js';

const HELP = `usage: medseg train DATASET [--config 3d_fullres|3d_lowres|2d|3d_cascade_prior|3d_cascade_crop]
                    [--fold 0-4|all] [--model DIR]
                    [--epochs N] [--iters-per-epoch N] [--budget 30m] [--optimizer sgd|adamw]
                    [--lr X] [--bf16 | --fp16 | --fp32] [--resume] [--seed N] [--threads N] [--memory-gb N]
                    [--no-validation] [--validation-checkpoint latest|best]
                    [--device auto|cpu|cuda|cuda:N] [--nproc N] [--dist-timeout 5m]
                    [--dice-weight W] [--ce-weight W] [--oversample-foreground F] [--augmentation S]

Trains one fold (nnU-Net defaults: SGD 0.01, Nesterov 0.99, poly LR, weight decay 3e-5, Dice+CE
with deep supervision, a third of each batch forced to contain foreground, augmentation).
Checkpoints checkpoint_latest / checkpoint_best and log.jsonl go to MODEL/<config>/fold_<F>/;
--resume continues a run exactly. --budget fits the number of epochs to a wall-clock time; when
plans.json has no budget section for the configuration (a plan made without --budget), it is first
re-planned for the budget on this machine (as medseg plan --budget does; said in the log). A
budgeted plan's training section (optimiser, learning rate, warm-up, precision, epochs) is the
default of every option not given. A budgeted run, which cannot afford find-best's 5 folds, writes
MODEL/inference.json itself (unless find-best wrote it): this configuration and its trained folds,
and the post-processing chosen on their validation cases, steps they cannot tell apart (or all,
without an independent validation case) by a prior from the training labels; predict follows it.
--fold all trains the 5 folds one after the other (with --resume, finished folds are skipped).
When a fold ends its validation cases are predicted (MODEL/<config>/fold_<F>/validation/): the
out-of-fold predictions find-best compares and the cascade's second stage trains on
(--no-validation skips them). They are predicted with the last epoch's checkpoint, as nnU-Net does:
checkpoint_best is chosen by those very cases, so its out-of-fold Dice is optimistic (and on unseen
cases it did worse, bench/RESULTS.md); --validation-checkpoint best predicts them with it instead.
--resume on a finished fold predicts its validation cases again when they were predicted with the
other checkpoint.
The cascade (planned when 3d_lowres is): train 3d_lowres with --fold all, then 3d_cascade_prior
(stage 1's prediction as extra input channels) and/or 3d_cascade_crop (stage 2 on boxes around
stage 1's components); 3d_cascade means 3d_cascade_prior.
--dice-weight / --ce-weight: the loss is W_dice·(1 − soft Dice) + W_ce·CE (default 1 and 1, as
nnU-Net; 0 switches a term off, not both). --oversample-foreground F: the share of each batch forced
to contain foreground, 0…1 (default 0.33, nnU-Net's). --augmentation S: 1 the standard augmentation,
0 none, up to 3; it multiplies every transform's probability (mirroring at most 1/2). Unset, each
comes from the plan's configuration (lossWeights, foregroundOversampling, augmentationStrength) if
it has one (search trials write them there), else the default.
${DEVICE_HELP}
--bf16: bfloat16 autocast (CPU with AVX512-BF16/AMX, or GPU); on by default on a CPU with native
bf16 (AVX512-BF16 or AMX), where --fp32 turns it off: bf16 steps are ~1.9× faster, so a run
bounded by time gets more of them and scores higher; at an equal number of steps fp32 scored a few
hundredths higher (bench/RESULTS.md). --fp16: float16 autocast with dynamic loss scaling (GPU
only). On a GPU cuDNN's benchmark mode is on (the patch size is fixed).
${RANK_HELP}`;

/** train's options, as parseArgs reads them (finetune takes the same ones and adds its own). */
export const TRAIN_ARGS = {
  config: { type: 'string', short: 'c', default: '3d_fullres' },
  fold: { type: 'string', short: 'f', default: '0' },
  model: { type: 'string', short: 'm' },
  epochs: { type: 'string' },
  'iters-per-epoch': { type: 'string' },
  budget: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  bf16: { type: 'boolean' },
  fp16: { type: 'boolean', default: false },
  fp32: { type: 'boolean' },
  ...deviceOption,
  resume: { type: 'boolean', default: false },
  'no-validation': { type: 'boolean', default: false },
  'validation-checkpoint': { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  'memory-gb': { type: 'string' },
  'dice-weight': { type: 'string' },
  'ce-weight': { type: 'string' },
  'oversample-foreground': { type: 'string' },
  augmentation: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The values parseArgs gives for TRAIN_ARGS. */
export interface TrainArgValues {
  config: string;
  fold: string;
  model?: string;
  epochs?: string;
  'iters-per-epoch'?: string;
  budget?: string;
  optimizer?: string;
  lr?: string;
  bf16?: boolean;
  fp32?: boolean;
  fp16: boolean;
  device: string;
  resume: boolean;
  'no-validation': boolean;
  'validation-checkpoint'?: string;
  seed?: string;
  threads?: string;
  'memory-gb'?: string;
  'dice-weight'?: string;
  'ce-weight'?: string;
  'oversample-foreground'?: string;
  augmentation?: string;
}

/** train's options from the command line: the dataset's options (all but the fold) and the fold. */
export async function trainOptionsFromArgs(
  values: TrainArgValues,
  ds: string,
  defaultModelDir = path.join('medseg_results', path.basename(path.resolve(ds))),
): Promise<{ options: Omit<TrainOptions, 'fold'>; fold: number | 'all' }> {
  const config = (values.config === '3d_cascade' ? '3d_cascade_prior' : values.config) as ConfigurationName;
  if (!CONFIGURATION_NAMES.includes(config)) throw new UsageError(`unknown --config '${config}'`);
  if (values.optimizer !== undefined && values.optimizer !== 'sgd' && values.optimizer !== 'adamw')
    throw new UsageError('--optimizer must be sgd or adamw');
  if (values.fp16 && values.bf16) throw new UsageError('--fp16 and --bf16 exclude each other');
  if (values.bf16 && values.fp32) throw new UsageError('--bf16 and --fp32 exclude each other');
  const device = await parseDeviceOption(values.device);
  const validationCheckpoint = parseCheckpoint(values['validation-checkpoint'], 'validation-checkpoint');
  if (values.fp16 && device === 'cpu')
    throw new UsageError('--fp16 needs a GPU (--device cuda); on the CPU use --bf16');
  const options = {
    dataset: ds,
    modelDir: values.model ?? defaultModelDir,
    config,
    epochs: parseInteger(values.epochs, 'epochs', COUNT_RANGE),
    itersPerEpoch: parseInteger(values['iters-per-epoch'], 'iters-per-epoch', COUNT_RANGE),
    budgetSeconds: values.budget === undefined ? undefined : parseDuration(values.budget, 'budget'),
    // unset: the plan's training section, else nnU-Net's SGD (src/train/planDefaults.ts)
    optimizer: values.optimizer as 'sgd' | 'adamw' | undefined,
    initialLr: parseNumber(values.lr, 'lr', LR_RANGE),
    // unset: the plan's training section, else native bf16 detection on the CPU
    bf16: values.fp32 || values.fp16 ? false : values.bf16 ? true : undefined,
    fp16: values.fp16,
    device,
    resume: values.resume,
    validate: !values['no-validation'],
    validationCheckpoint,
    seed: parseInteger(values.seed, 'seed', SEED_RANGE),
    threads: parseInteger(values.threads, 'threads', THREADS_RANGE),
    memoryGb: parseNumber(values['memory-gb'], 'memory-gb', MEMORY_GB_RANGE),
    diceWeight: parseNumber(values['dice-weight'], 'dice-weight', LOSS_WEIGHT_RANGE),
    ceWeight: parseNumber(values['ce-weight'], 'ce-weight', LOSS_WEIGHT_RANGE),
    foregroundOversampling: parseNumber(
      values['oversample-foreground'],
      'oversample-foreground',
      OVERSAMPLING_RANGE,
    ),
    augmentationStrength: parseNumber(values.augmentation, 'augmentation', AUGMENTATION_RANGE),
    log: (s: string) => {
      process.stderr.write(`${s}\n`);
    },
  };
  if (options.diceWeight === 0 && options.ceWeight === 0)
    throw new UsageError('--dice-weight and --ce-weight are both 0: the loss would be 0 and nothing trains');
  const fold = values.fold === 'all' ? 'all' : parseInteger(values.fold, 'fold', FOLD_RANGE)!;
  return { options, fold };
}

export const command: Command = {
  name: 'train',
  summary: 'train one fold of a configuration',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...TRAIN_ARGS, ...RANK_ARGS },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const ds = positionals[0];
    if (!ds) throw new UsageError(`a dataset folder is required\n${HELP}`);
    const ranks = rankPlan(values);
    const parsed = await trainOptionsFromArgs(values, ds);
    const fold = parsed.fold;
    let opts = parsed.options;
    // before libtorch loads and the dataset is read: a folder training cannot write to fails now
    await assertWritableModelFolder(opts.modelDir);
    if (ranks.kind === 'launch') return launchTrainRanks(ranks.nproc, argv);
    const joined = ranks.kind === 'rank' ? await joinRank(ranks, opts.device ?? 'cpu') : null;
    if (joined) {
      opts = { ...opts, distributed: joined.distributed, device: joined.device };
      // rank 0 alone predicts the validation cases and prints
      if (ranks.kind === 'rank' && ranks.env.rank !== 0) opts.validate = false;
    }
    const { train, trainFolds } = await import('../crossval/train.js');
    let results;
    try {
      results = fold === 'all' ? await trainFolds(opts) : [await train({ ...opts, fold })];
    } finally {
      joined?.distributed.group.close();
    }
    if (ranks.kind === 'rank' && ranks.env.rank !== 0) return 0;
    // a budgeted run cannot afford find-best's folds: it chooses its own recipe (README)
    const { recipeAfterBudgetedRun } = await import('../evaluate/singleRunRecipe.js');
    await recipeAfterBudgetedRun({
      dataset: opts.dataset,
      modelDir: opts.modelDir,
      config: opts.config ?? '3d_fullres',
      fold,
      budgetSeconds: opts.budgetSeconds,
      log: opts.log,
    });
    for (const r of results) {
      console.log(
        `trained ${r.epochs} epochs; best EMA pseudo-Dice ${r.bestEmaDice.toFixed(3)}; checkpoints in ${r.foldDir}`,
      );
    }
    return 0;
  },
};
