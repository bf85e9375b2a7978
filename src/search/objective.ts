// What a trial runs. `train`: medseg's own plan and train in this process, each trial in its own
// model subfolder MODEL/trials/trial_NNNN (its plans.json, the study's fingerprint and splits, the
// shared preprocessed store); its value is the best per-epoch validation pseudo-Dice, reported
// after every epoch for pruning. `function`: a standard test function (functions.ts) with a fake
// per-epoch curve, for the sampler benchmark and the worker tests (no libtorch).
import { readPlans } from '../plan/schema.js';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigurationName } from '../plan/planner.js';
import { writePlans } from '../plan/planner.js';
import type { EpochLog } from '../train/types.js';
import type { AshaOptions } from './asha.js';
import { TEST_FUNCTIONS } from './functions.js';
import type { Params, Space } from './space.js';
import { applyParams, trainOptionsOf } from './trialPlan.js';

interface StudyCommon {
  space: Space;
  sampler: 'tpe' | 'random';
  seed: number;
  /** ASHA on the per-epoch values; null: no pruning. */
  pruning: AshaOptions | null;
}

export interface TrainStudyConfig extends StudyCommon {
  objective: 'train';
  dataset: string;
  modelDir: string;
  config: ConfigurationName;
  fold: number;
  epochs?: number;
  itersPerEpoch?: number;
  budgetSeconds?: number;
  memoryGb?: number;
}

export interface FunctionStudyConfig extends StudyCommon {
  objective: 'function';
  function: string;
  epochs: number;
  /** Sleep per fake epoch (lets tests kill a worker mid-trial). */
  epochMs: number;
  /** Busy (synchronous) time per fake epoch, as libtorch work blocks the main thread. */
  blockMs?: number;
}

export type StudyConfig = TrainStudyConfig | FunctionStudyConfig;

export interface TrialContext {
  number: number;
  params: Params;
  threads?: number;
  /** Reports the value after an epoch (final: the trial's last one, never pruned); 'stop' ends the
   * trial there (pruned, or no longer this worker's). */
  onEpoch(epoch: number, value: number, final: boolean): Promise<'stop' | void>;
  log(s: string): void;
}

export interface TrialOutcome {
  value: number;
  /** Stopped early by onEpoch. */
  stopped: boolean;
  result?: unknown;
}

export const trialDirOf = (modelDir: string, n: number): string =>
  path.join(modelDir, 'trials', `trial_${String(n).padStart(4, '0')}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runFunction(c: FunctionStudyConfig, ctx: TrialContext): Promise<TrialOutcome> {
  const fn = TEST_FUNCTIONS[c.function];
  if (!fn) throw new Error(`unknown test function '${c.function}'`);
  const final = -fn.f(ctx.params);
  let best = -Infinity;
  for (let e = 1; e <= c.epochs; e++) {
    await sleep(c.epochMs);
    const until = performance.now() + (c.blockMs ?? 0);
    while (performance.now() < until);
    // a learning curve rising to the final value: trials keep their order at every epoch
    const v = final - (c.epochs - e);
    best = Math.max(best, v);
    if ((await ctx.onEpoch(e, v, e === c.epochs)) === 'stop') return { value: best, stopped: true };
  }
  return { value: final, stopped: false };
}

async function runTraining(c: TrainStudyConfig, ctx: TrialContext): Promise<TrialOutcome> {
  const basePlans = await readPlans(path.join(c.modelDir, 'plans.json'));
  // an impossible combination fails here, before any folder is written
  const plans = applyParams(basePlans, c.config, ctx.params);
  const dir = trialDirOf(c.modelDir, ctx.number);
  await mkdir(dir, { recursive: true });
  await writePlans(dir, plans);
  for (const f of ['fingerprint.json', 'splits.json'])
    if (existsSync(path.join(c.modelDir, f))) await copyFile(path.join(c.modelDir, f), path.join(dir, f));
  // the trial's spacing and normalisation are the study's: it reads the study's preprocessed cases
  const shared = path.join(dir, 'preprocessed');
  if (!existsSync(shared)) await symlink(path.resolve(c.modelDir, 'preprocessed'), shared, 'dir');
  const { trainModel } = await import('../train/trainer.js');
  const t = trainOptionsOf(ctx.params);
  let stopped = false;
  const planned = t.epochs ?? c.epochs;
  const onEpoch = async (e: EpochLog): Promise<'stop' | void> => {
    if ((await ctx.onEpoch(e.epoch, e.val_mean_dice, e.epoch === planned)) === 'stop') {
      stopped = true;
      return 'stop';
    }
  };
  const res = await trainModel({
    dataset: c.dataset,
    modelDir: dir,
    config: c.config,
    fold: c.fold,
    epochs: t.epochs ?? c.epochs,
    itersPerEpoch: t.itersPerEpoch ?? c.itersPerEpoch,
    budgetSeconds: c.budgetSeconds,
    optimizer: t.optimizer,
    initialLr: t.initialLr,
    memoryGb: c.memoryGb,
    seed: c.seed,
    threads: ctx.threads,
    validate: false,
    resume: true,
    log: ctx.log,
    onEpoch,
  });
  const value = Math.max(...res.history.map((e) => e.val_mean_dice));
  return { value, stopped, result: { trialDir: dir, epochs: res.history.length } };
}

export function runObjective(c: StudyConfig, ctx: TrialContext): Promise<TrialOutcome> {
  return c.objective === 'function' ? runFunction(c, ctx) : runTraining(c, ctx);
}
