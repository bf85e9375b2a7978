// Training one fold of one configuration: Dice+CE with deep supervision, SGD (nnU-Net's defaults) or
// AdamW, poly LR (with optional warm-up) over epochs × iterations or fitted to a wall-clock budget,
// validation pseudo-Dice every epoch, checkpoints `latest` and `best` written atomically, exact
// resumption. Built from parts: run.ts opens the run, step.ts is one optimisation step, epochs.ts the
// loop, pseudoDice.ts the per-epoch validation. Predicting the fold's validation cases afterwards is
// src/crossval/'s (it needs inference, a layer above).
import { appendFile } from 'node:fs/promises';
import { deepSupervisionLoss, saveCheckpoint } from '../nn/index.js';
import { warmupPolyLR } from '../optim/index.js';
import { openRun, type TrainRun } from './run.js';
import { makeTrainStep } from './step.js';
import { runEpochs } from './epochs.js';
import { fitEpochs } from './budget.js';
import { pseudoDice } from './pseudoDice.js';
import { DEFAULT_CE_WEIGHT, DEFAULT_DICE_WEIGHT } from './recipe.js';
import { allReduceGradients, broadcastParameters } from '../distributed/index.js';
import type { TrainOptions, TrainResult } from './types.js';
import type { Prepared } from './prepare.js';
import type { Split } from './splits.js';

/** The step function of a run: its network, loss, optimiser, schedule and batch loader. */
export function runStep(run: TrainRun): (step: number) => Promise<number> {
  const { state, opt } = run;
  const warmup = run.options.warmupSteps ?? 0;
  const lossOptions = {
    batchDice: run.prepared.config.batchDice ?? false,
    diceWeight: run.options.diceWeight ?? DEFAULT_DICE_WEIGHT,
    ceWeight: run.options.ceWeight ?? DEFAULT_CE_WEIGHT,
  };
  return makeTrainStep(
    {
      forward: (x) => run.net.forwardAll(x),
      // batch Dice (one Dice over the whole batch) where the plan says so, as nnU-Net's 3D plans do
      loss: (outs, y) => deepSupervisionLoss(outs, y, lossOptions, run.regions),
      opt,
      precision: run.precision,
      scaler: run.scaler,
      device: run.device,
      syncGrads: run.options.distributed
        ? (params) =>
            allReduceGradients(run.options.distributed!.group, params, run.options.distributed!.bucketBytes)
        : undefined,
      lrAt: (s) => warmupPolyLR(run.lr0, s, state.totalEpochs * state.itersPerEpoch, warmup),
    },
    (s) => run.loader.next(s),
  );
}

/** Times a few steps and fits epochs × iterations to the budget (a new run with no fixed epochs). */
async function fitToBudget(run: TrainRun, step: (s: number) => Promise<number>): Promise<void> {
  const o = run.options;
  await run.loader.ready();
  const t = performance.now();
  for (let i = 0; i < 3; i++) await step(i);
  const perStep = (performance.now() - t) / 3000;
  Object.assign(run.state, fitEpochs(o.budgetSeconds!, perStep, run.state.itersPerEpoch));
  // data-parallel: every rank runs rank 0's schedule
  if (o.distributed)
    [run.state.totalEpochs, run.state.itersPerEpoch] = o.distributed.group.agree([
      run.state.totalEpochs,
      run.state.itersPerEpoch,
    ]);
  o.log?.(
    `budget ${o.budgetSeconds}s at ${perStep.toFixed(2)} s/step: ${run.state.totalEpochs} epochs × ${run.state.itersPerEpoch} iterations`,
  );
}

/** Trains one fold (resumable); the caller predicts its validation cases if it wants them. */
export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  return (await trainFold(o)).result;
}

/**
 * Data-parallel runs: rank 0 prepares the data and opens the run first (one writer of the
 * preprocessed store and splits.json); the others then open theirs, silent, and take rank 0's weights.
 */
async function openRank(o: TrainOptions): Promise<TrainRun> {
  const dp = o.distributed;
  if (!dp) return openRun(o);
  const key = `medseg/open/${o.config ?? '3d_fullres'}/${o.fold ?? 0}`;
  if (dp.group.rank !== 0) dp.group.wait(key, dp.openTimeoutSeconds ?? 6 * 3600);
  const run = await openRun(o);
  if (dp.group.rank === 0) dp.group.set(key, 'open');
  broadcastParameters(dp.group, run.net.parameters(), 0, dp.bucketBytes);
  return run;
}

/** trainModel, also returning what the run prepared (dataset, plans, splits) for the caller's use. */
export async function trainFold(
  caller: TrainOptions,
): Promise<{ result: TrainResult; prepared: Prepared; splits: Split[] }> {
  const dp = caller.distributed;
  const lead = !dp || dp.group.rank === 0;
  // ranks other than 0 say nothing and leave the hooks (search trials, fine-tuning logs) to rank 0
  const o: TrainOptions = lead ? caller : { ...caller, log: undefined, onEpoch: undefined };
  const log = o.log ?? (() => {});
  const run = await openRank(o);
  const { state, files } = run;
  let stoppedEarly = false;
  try {
    const step = runStep(run);
    const fitting = !!o.budgetSeconds && !o.epochs && state.epoch === 0;
    const start = performance.now();
    if (fitting) await fitToBudget(run, step);
    ({ stoppedEarly } = await runEpochs({
      state,
      history: run.history,
      step,
      // the weights are the same on every rank: rank 0 alone validates and writes
      validate: lead
        ? () => pseudoDice(run.net, run.val, run.classes, run.precision, run.squeeze2d, run.regions)
        : () => [],
      record: async (entry, improved) => {
        if (!lead) return;
        await saveCheckpoint(files.latest, run.net, run.opt, state);
        if (improved) await saveCheckpoint(files.best, run.net, run.opt, state);
        await appendFile(files.log, `${JSON.stringify(entry)}\n`);
      },
      lr: () => run.opt.lr,
      beforeEpoch: o.beforeEpoch && ((e) => o.beforeEpoch!(e, run.net)),
      onEpoch: o.onEpoch,
      budget: fitting ? { seconds: o.budgetSeconds!, start } : undefined,
      log,
      quiet: !lead,
      agree: dp && ((v) => dp.group.agree([v])[0]!),
    }));
  } finally {
    await run.close();
  }
  const result: TrainResult = {
    foldDir: files.foldDir,
    epochs: state.totalEpochs,
    history: run.history,
    bestEmaDice: state.bestEma,
    stoppedEarly,
  };
  return { result, prepared: run.prepared, splits: run.splits };
}
