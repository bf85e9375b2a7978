// The training loop: Dice+CE with deep supervision, SGD (nnU-Net's defaults) or AdamW, poly LR
// over epochs × iterations (or fitted to a wall-clock budget), validation pseudo-Dice every epoch,
// checkpoints `latest` and `best` written atomically in one file each, exact resumption.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Tensor,
  tidy,
  noGrad,
  autocast,
  manualSeed,
  getRngState,
  setRngState,
  setThreads,
  keep,
} from '../engine/index.js';
import { UNet, deepSupervisionLoss, saveSafetensors, loadSafetensors, CheckpointError } from '../nn/index.js';
import { SGD, AdamW, polyLR, type Optimizer } from '../optim/index.js';
import type { ConfigurationName } from '../plan/planner.js';
import { prepare, type Prepared } from './prepare.js';
import { loadOrCreateSplits } from './splits.js';
import { Rng } from '../synth/prng.js';
import { patchStart } from './sampler.js';
import { BatchLoader } from './loader.js';
import { ProgressBar, formatDuration } from './progress.js';
import { readPatch, patchTensors } from '../preprocess/store.js';
import { predictValidation } from './validate.js';

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
  bf16?: boolean;
  seed?: number;
  resume?: boolean;
  memoryGb?: number;
  threads?: number;
  /** Validation patches per validation case. */
  valPatches?: number;
  /** Predict the fold's validation cases when training ends (default true; see outOfFold.ts). */
  validate?: boolean;
  log?: (s: string) => void;
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
}

interface TrainState {
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
}

async function saveCheckpoint(file: string, net: UNet, opt: Optimizer, state: TrainState): Promise<void> {
  const tensors = new Map(net.stateDict());
  const o = opt.stateDict();
  for (const [k, t] of o.tensors) tensors.set(`optimizer.${k}`, t);
  const rng = getRngState();
  tensors.set('rng.cpu', rng);
  await saveSafetensors(file, tensors, { state: JSON.stringify(state), optimizer: JSON.stringify(o.meta) });
  rng.dispose();
}

/** Loads a checkpoint into net (and opt): all checks happen before anything is copied. */
export async function loadCheckpoint(file: string, net: UNet, opt?: Optimizer): Promise<TrainState> {
  const { tensors, metadata } = await loadSafetensors(file);
  try {
    if (!metadata.state)
      throw new CheckpointError(file, 'no training state in the metadata (not a medseg checkpoint?)');
    const weights = new Map(
      [...tensors].filter(([k]) => !k.startsWith('optimizer.') && !k.startsWith('rng.')),
    );
    const own = net.stateDict();
    for (const [k, t] of own) {
      const w = weights.get(k);
      if (!w) throw new CheckpointError(file, `missing weight ${k}`);
      if (w.shape.join(',') !== t.shape.join(',')) {
        throw new CheckpointError(file, `${k} has shape [${w.shape}], the network expects [${t.shape}]`);
      }
    }
    net.loadStateDict(weights, false);
    if (opt) {
      const optTensors = new Map(
        [...tensors].filter(([k]) => k.startsWith('optimizer.')).map(([k, t]) => [k.slice(10), t]),
      );
      opt.loadStateDict(optTensors, JSON.parse(metadata.optimizer ?? '{}') as Record<string, unknown>);
      const rng = tensors.get('rng.cpu');
      if (rng) setRngState(rng);
    }
    return JSON.parse(metadata.state) as TrainState;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Fixed validation patches (same every epoch): one foreground-centred, the rest random. */
function validationBatches(p: Prepared, valIds: string[], n: number): { x: Tensor; y: Tensor }[] {
  const rng = new Rng(777);
  const cases = p.cases.filter((c) => valIds.includes(c.parent ?? c.id));
  const out: { x: Tensor; y: Tensor }[] = [];
  for (const meta of cases) {
    const patches = [];
    for (let i = 0; i < n; i++)
      patches.push(
        readPatch(p.preprocessedDir, meta, patchStart(meta, p.config.patch, i === 0, rng), p.config.patch),
      );
    const b = patchTensors(patches, meta.channels, p.config.patch);
    out.push({ x: keep(b.x), y: keep(b.y) });
  }
  return out;
}

function pseudoDice(
  net: UNet,
  batches: { x: Tensor; y: Tensor }[],
  classes: number,
  bf16: boolean,
  to2d: (t: Tensor) => Tensor,
  lab2d: (t: Tensor) => Tensor,
): number[] {
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  net.eval();
  for (const b of batches) {
    tidy(() =>
      noGrad(() => {
        const pred = autocast(bf16 ? 'bfloat16' : null, () => net.forward(to2d(b.x))).argmax(1);
        const y = lab2d(b.y);
        for (let c = 1; c < classes; c++) {
          const p = pred.eq(c);
          const r = y.eq(c);
          const inter = p.logicalAnd(r).countNonzero();
          tp[c]! += inter;
          fp[c]! += p.countNonzero() - inter;
          fn[c]! += r.countNonzero() - inter;
        }
      }),
    );
  }
  net.train();
  return tp.slice(1).map((t, i) => {
    const d = 2 * t + fp[i + 1]! + fn[i + 1]!;
    return d ? (2 * t) / d : NaN;
  });
}

/**
 * Every fold of the cross-validation, one after the other (resumable: with resume, finished folds
 * return at once and an interrupted one continues).
 */
export async function trainFolds(o: Omit<TrainOptions, 'fold'>): Promise<TrainResult[]> {
  const results = [await train({ ...o, fold: 0 })];
  const splits = JSON.parse(await readFile(path.join(o.modelDir, 'splits.json'), 'utf8')) as unknown[];
  for (let f = 1; f < splits.length; f++) results.push(await train({ ...o, fold: f }));
  return results;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? (() => {});
  const configName = o.config ?? '3d_fullres';
  const fold = o.fold ?? 0;
  setThreads(o.threads);
  const p = await prepare(o.dataset, o.modelDir, configName, { memoryGb: o.memoryGb, log });
  const splits = await loadOrCreateSplits(
    o.modelDir,
    p.dataset.training.map((c) => c.id),
  );
  const split = splits[fold];
  if (!split) throw new Error(`fold ${fold} does not exist: the dataset has ${splits.length} fold(s)`);
  // a stored case belongs to its dataset case (the cascade's crops: several per case)
  const trainCases = p.cases.filter((c) => split.train.includes(c.parent ?? c.id));
  if (!trainCases.length) throw new Error(`${configName} fold ${fold}: no training case`);
  const foldDir = path.join(o.modelDir, configName, `fold_${fold}`);
  await mkdir(foldDir, { recursive: true });
  const latest = path.join(foldDir, 'checkpoint_latest.safetensors');
  const best = path.join(foldDir, 'checkpoint_best.safetensors');
  const logFile = path.join(foldDir, 'log.jsonl');

  manualSeed(o.seed ?? 0);
  const spec = p.config.network;
  const is2d = spec.dims === 2;
  const net = new UNet(spec);
  const lr0 = o.initialLr ?? (o.optimizer === 'adamw' ? 1e-3 : 1e-2);
  const opt: Optimizer =
    o.optimizer === 'adamw'
      ? new AdamW(net.parameters(), { lr: lr0, weightDecay: 3e-5 })
      : new SGD(net.parameters(), { lr: lr0, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  let state: TrainState = {
    epoch: 0,
    totalEpochs: o.epochs ?? 1000,
    itersPerEpoch: o.itersPerEpoch ?? 250,
    seed: o.seed ?? 0,
    bestEma: -1,
    ema: NaN,
    config: configName,
    fold,
  };
  const history: EpochLog[] = [];
  if (o.resume && existsSync(latest)) {
    state = await loadCheckpoint(latest, net, opt);
    if (o.epochs && o.epochs !== state.totalEpochs) {
      log(`resume: the run was planned for ${state.totalEpochs} epochs, continuing to ${o.epochs}`);
      state.totalEpochs = o.epochs;
    }
    log(`resumed from ${latest} at epoch ${state.epoch}/${state.totalEpochs}`);
    if (existsSync(logFile)) {
      for (const line of (await readFile(logFile, 'utf8')).split('\n').filter(Boolean))
        history.push(JSON.parse(line) as EpochLog);
    }
  } else if (existsSync(logFile) && !o.resume) {
    throw new Error(
      `${foldDir} already holds a training run: pass --resume to continue it, or choose another model folder`,
    );
  }
  const batchSize = p.config.batchSize;
  // 2d: patches [1, y, x] read from the 3D store, the slice axis squeezed away
  const patch = is2d ? [1, ...p.config.patch] : p.config.patch;
  const to2d = (t: Tensor) => (is2d ? t.squeeze(2) : t);
  const lab2d = (t: Tensor) => (is2d ? t.squeeze(1) : t);
  const val = validationBatches({ ...p, config: { ...p.config, patch } }, split.val, o.valPatches ?? 2);
  const classes = p.plans.labelValues.length;
  // batches made ahead in worker threads; the batch of step s depends only on (seed, s)
  const loader = new BatchLoader({
    dir: p.preprocessedDir,
    cases: trainCases,
    patch,
    batchSize,
    seed: state.seed ?? o.seed ?? 0,
    squeeze2d: is2d,
    imageChannels: p.plans.channelNames.length,
  });
  const bar = new ProgressBar();
  const trainStep = async (globalStep: number): Promise<number> => {
    opt.lr = polyLR(lr0, globalStep, state.totalEpochs * state.itersPerEpoch);
    const { x, y } = await loader.next(globalStep);
    try {
      return tidy(() => {
        const outs = autocast(o.bf16 ? 'bfloat16' : null, () => net.forwardAll(x));
        const l = deepSupervisionLoss(outs, y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      });
    } finally {
      x.dispose();
      y.dispose();
    }
  };
  try {
    // With a time budget and no fixed epoch count: time a few steps first, then fit epochs (and
    // iterations per epoch, so that there are at least 10 epochs to validate after) to the budget.
    const fitting = !!o.budgetSeconds && !o.epochs && state.epoch === 0;
    const budgetStart = performance.now();
    const epochSeconds: number[] = [];
    if (fitting) {
      await loader.ready();
      const t = performance.now();
      for (let i = 0; i < 3; i++) await trainStep(i);
      const perStep = (performance.now() - t) / 3000;
      const steps = Math.max(10, Math.floor(o.budgetSeconds! / (perStep * 1.1)));
      state.itersPerEpoch = Math.max(1, Math.min(state.itersPerEpoch, Math.floor(steps / 10)));
      state.totalEpochs = Math.max(1, Math.floor(steps / state.itersPerEpoch));
      log(
        `budget ${o.budgetSeconds}s at ${perStep.toFixed(2)} s/step: ${state.totalEpochs} epochs × ${state.itersPerEpoch} iterations`,
      );
    }
    while (state.epoch < state.totalEpochs) {
      const t0 = performance.now();
      let lossSum = 0;
      for (let it = 0; it < state.itersPerEpoch; it++) {
        const step = state.epoch * state.itersPerEpoch + it;
        lossSum += await trainStep(step);
        bar.update(
          {
            epoch: state.epoch + 1,
            totalEpochs: state.totalEpochs,
            iter: it + 1,
            iters: state.itersPerEpoch,
            loss: lossSum / (it + 1),
            dice: history.at(-1)?.val_mean_dice,
          },
          step + 1,
          state.totalEpochs * state.itersPerEpoch,
        );
      }
      const dice = pseudoDice(net, val, classes, !!o.bf16, to2d, lab2d);
      const valid = dice.filter((d) => !Number.isNaN(d));
      const mean = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
      state.ema = Number.isNaN(state.ema) ? mean : 0.9 * state.ema + 0.1 * mean;
      const seconds = (performance.now() - t0) / 1000;
      state.epoch++;
      if (fitting) {
        // refit the epoch count to the time left after every epoch, at the median epoch time so
        // far: the timed steps above carry first-call costs, and a machine shared with other jobs
        // has slow spells that one epoch alone would extrapolate
        epochSeconds.push(seconds);
        const typical = [...epochSeconds].sort((a, b) => a - b)[epochSeconds.length >> 1]!;
        const left = o.budgetSeconds! - (performance.now() - budgetStart) / 1000;
        const total = Math.max(state.epoch, state.epoch + Math.floor(left / (typical * 1.05)));
        if (total !== state.totalEpochs) {
          log(
            `budget: ${left.toFixed(0)} s left at ${typical.toFixed(1)} s/epoch, refitted to ${total} epochs`,
          );
          state.totalEpochs = total;
        }
      }
      const entry: EpochLog = {
        epoch: state.epoch,
        train_loss: lossSum / state.itersPerEpoch,
        val_dice: dice,
        val_mean_dice: mean,
        ema_dice: state.ema,
        lr: opt.lr,
        seconds,
      };
      history.push(entry);
      const improved = state.ema > state.bestEma;
      if (improved) state.bestEma = state.ema;
      await saveCheckpoint(latest, net, opt, state);
      if (improved) await saveCheckpoint(best, net, opt, state);
      await appendFile(logFile, `${JSON.stringify(entry)}\n`);
      const eta = seconds * (state.totalEpochs - state.epoch);
      bar.clear();
      log(
        `epoch ${state.epoch}/${state.totalEpochs}  loss ${entry.train_loss.toFixed(4)}  val dice [${dice.map((d) => d.toFixed(3)).join(' ')}]` +
          `  ema ${state.ema.toFixed(3)}${improved ? ' (best)' : ''}  ${seconds.toFixed(1)} s/epoch  ETA ${formatDuration(eta)}`,
      );
    }
  } finally {
    bar.clear();
    await loader.close();
    for (const b of val) {
      b.x.dispose();
      b.y.dispose();
    }
    net.dispose();
    opt.dispose();
  }
  if (o.validate !== false) {
    const summary = await predictValidation({
      dataset: p.dataset,
      modelDir: o.modelDir,
      plans: p.plans,
      config: configName,
      fold,
      splits,
      log,
    });
    log(
      `${configName} fold ${fold}: out-of-fold Dice ${summary.meanDice === null ? '-' : summary.meanDice.toFixed(3)} over ${summary.cases.length} validation case(s)`,
    );
  }
  return { foldDir, epochs: state.totalEpochs, history, bestEmaDice: state.bestEma };
}
