// Opening a training run: the prepared data of one configuration, the fold's split, the network,
// the optimiser, and — on resume — their state from checkpoint_latest. Everything a run holds is in
// one TrainRun, closed once.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { manualSeed, setThreads, keep, isCuda, useDevice, type AutocastDType } from '../engine/index.js';
import { UNet, loadCheckpoint } from '../nn/index.js';
import { SGD, AdamW, GradScaler, type Optimizer } from '../optim/index.js';
import type { ConfigurationName } from '../plan/planner.js';
import { regionClassSets } from '../plan/regions.js';
import type { StoredCase } from '../preprocess/store.js';
import { prepare, type Prepared } from './prepare.js';
import { loadOrCreateSplits, type Split } from './splits.js';
import { BatchLoader } from './loader.js';
import { validationBatches, disposeBatches, type ValidationBatch } from './pseudoDice.js';
import { newTrainState, type EpochLog, type TrainOptions, type TrainState } from './types.js';
import { optionsFromPlan, replanForBudget } from './planDefaults.js';
import { checkTrainOptions } from './checkOptions.js';
import { DEFAULT_AUGMENTATION_STRENGTH, DEFAULT_FOREGROUND_OVERSAMPLING } from './recipe.js';
import { rankSeed } from '../distributed/index.js';

export interface RunFiles {
  foldDir: string;
  latest: string;
  best: string;
  log: string;
}

export interface TrainRun {
  options: TrainOptions;
  prepared: Prepared;
  configName: ConfigurationName;
  fold: number;
  splits: Split[];
  trainCases: StoredCase[];
  files: RunFiles;
  net: UNet;
  opt: Optimizer;
  lr0: number;
  precision: AutocastDType | null;
  /** float16 runs: the dynamic loss scale (its state is saved with every checkpoint). */
  scaler: GradScaler | null;
  /** Where the network, optimiser state and validation patches live ('cpu', 'cuda:0', ...). */
  device: string;
  state: TrainState;
  history: EpochLog[];
  /** True when this run continues a checkpoint. */
  resumed: boolean;
  /** 2d configurations read [1, y, x] patches from the 3D store and squeeze the slice axis. */
  squeeze2d: boolean;
  /** The patch read from the store: [1, y, x] for 2d. */
  patch: number[];
  loader: BatchLoader;
  val: ValidationBatch[];
  classes: number;
  /** Region-based plans: the class indices each sigmoid output unites (plan/regions.ts). */
  regions: number[][] | undefined;
  close: () => Promise<void>;
}

export function runFiles(modelDir: string, config: ConfigurationName, fold: number): RunFiles {
  const foldDir = path.join(modelDir, config, `fold_${fold}`);
  return {
    foldDir,
    latest: path.join(foldDir, 'checkpoint_latest.safetensors'),
    best: path.join(foldDir, 'checkpoint_best.safetensors'),
    log: path.join(foldDir, 'log.jsonl'),
  };
}

/** nnU-Net's optimiser (SGD, Nesterov 0.99, lr 1e-2) or AdamW (lr 1e-3), weight decay 3e-5. */
export function makeOptimizer(net: UNet, kind: 'sgd' | 'adamw' | undefined, lr?: number): Optimizer {
  return kind === 'adamw'
    ? new AdamW(net.parameters(), { lr: lr ?? 1e-3, weightDecay: 3e-5 })
    : new SGD(net.parameters(), { lr: lr ?? 1e-2, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
}

export async function openRun(caller: TrainOptions): Promise<TrainRun> {
  // the caller's numbers first, before any data is read (the same ranges as the CLI's)
  checkTrainOptions(caller);
  const log = caller.log ?? (() => {});
  const configName = caller.config ?? '3d_fullres';
  const fold = caller.fold ?? 0;
  const device = caller.device ?? 'cpu';
  if (caller.fp16 && !isCuda(device))
    throw new Error(
      `fp16 training needs a CUDA device (the run's device is ${device}); on the CPU use bf16 where it has native support`,
    );
  if (caller.fp16 && caller.bf16) throw new Error('fp16 and bf16 exclude each other: choose one');
  setThreads(caller.threads);
  const p = await prepare(caller.dataset, caller.modelDir, configName, { memoryGb: caller.memoryGb, log });
  // a budgeted plan's training section fills the options the caller left unset
  await replanForBudget(caller, p);
  const o = optionsFromPlan(caller, p);
  // with the plan's values filled in (e.g. --dice-weight 0 over a plan whose ce weight is 0)
  checkTrainOptions(o);
  const splits = await loadOrCreateSplits(
    o.modelDir,
    p.dataset.training.map((c) => c.id),
  );
  const split = splits[fold];
  if (!split) throw new Error(`fold ${fold} does not exist: the dataset has ${splits.length} fold(s)`);
  // a stored case belongs to its dataset case (the cascade's crops: several per case)
  const ofSplit = (ids: string[]) => p.cases.filter((c) => ids.includes(c.parent ?? c.id));
  const trainCases = ofSplit(split.train);
  if (!trainCases.length) throw new Error(`${configName} fold ${fold}: no training case`);
  const files = runFiles(o.modelDir, configName, fold);
  await mkdir(files.foldDir, { recursive: true });

  manualSeed(o.seed ?? 0);
  const net = new UNet(p.config.network);
  // moved before the optimiser is made: it holds the parameters themselves
  if (device !== 'cpu') net.to(device);
  useDevice(device);
  const opt = makeOptimizer(net, o.optimizer, o.initialLr);
  const lr0 = opt.lr;
  let state: TrainState = newTrainState({
    epochs: o.epochs ?? 1000,
    itersPerEpoch: o.itersPerEpoch ?? 250,
    seed: o.seed ?? 0,
    config: configName,
    fold,
  });
  const history: EpochLog[] = [];
  let resumed = false;
  try {
    if (o.resume && existsSync(files.latest)) {
      state = await loadCheckpoint<TrainState>(files.latest, net, opt);
      resumed = true;
      if (o.epochs && o.epochs !== state.totalEpochs) {
        log(`resume: the run was planned for ${state.totalEpochs} epochs, continuing to ${o.epochs}`);
        state.totalEpochs = o.epochs;
      }
      log(`resumed from ${files.latest} at epoch ${state.epoch}/${state.totalEpochs}`);
      if (existsSync(files.log)) {
        for (const line of (await readFile(files.log, 'utf8')).split('\n').filter(Boolean))
          history.push(JSON.parse(line) as EpochLog);
      }
    } else if (existsSync(files.log) && !o.resume) {
      throw new Error(
        `${files.foldDir} already holds a training run: pass --resume to continue it, or choose another model folder`,
      );
    } else {
      await o.initialize?.(net);
    }
  } catch (e) {
    net.dispose();
    opt.dispose();
    throw e;
  }
  const squeeze2d = p.config.network.dims === 2;
  const patch = squeeze2d ? [1, ...p.config.patch] : p.config.patch;
  let val = validationBatches(p.preprocessedDir, ofSplit(split.val), patch, o.valPatches ?? 2);
  if (device !== 'cpu') {
    const onCpu = val;
    val = onCpu.map((b) => ({ x: keep(b.x.to(device)), y: keep(b.y.to(device)) }));
    disposeBatches(onCpu);
  }
  const scaler = o.fp16 ? new GradScaler({}, state.gradScaler) : null;
  // every checkpoint written from state carries the scaler's current scale (read when it is saved)
  if (scaler)
    Object.defineProperty(state, 'gradScaler', {
      get: () => scaler.state(),
      enumerable: true,
      configurable: true,
    });
  // batches made ahead in worker threads; the batch of step s depends only on (seed, s), and in a
  // data-parallel run on the rank too (rank 0 keeps the run's seed)
  const loader = new BatchLoader({
    dir: p.preprocessedDir,
    cases: trainCases,
    patch,
    batchSize: p.config.batchSize,
    seed: rankSeed(state.seed ?? o.seed ?? 0, o.distributed?.group.rank ?? 0),
    squeeze2d,
    imageChannels: p.plans.channelNames.length,
    foregroundFraction: o.foregroundOversampling ?? DEFAULT_FOREGROUND_OVERSAMPLING,
    augment: { strength: o.augmentationStrength ?? DEFAULT_AUGMENTATION_STRENGTH },
  });
  return {
    options: o,
    prepared: p,
    configName,
    fold,
    splits,
    trainCases,
    files,
    net,
    opt,
    lr0,
    precision: o.fp16 ? 'float16' : o.bf16 ? 'bfloat16' : null,
    scaler,
    device,
    state,
    history,
    resumed,
    squeeze2d,
    patch,
    loader,
    val,
    classes: p.plans.labelValues.length,
    regions: regionClassSets(p.plans),
    close: async () => {
      await loader.close();
      disposeBatches(val);
      net.dispose();
      opt.dispose();
    },
  };
}
