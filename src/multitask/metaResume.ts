// meta-train --resume: what an interrupted meta-training needs to continue exactly where it stopped.
// The outer loop carries no optimiser state across meta-iterations (the inner SGD is fresh every
// meta-iteration; FOMAML's outer step has no momentum), so the whole run is a function of
//   θ after the last finished epoch (checkpoint_latest),
//   the epoch, the EMA and the RNG state (the checkpoint's metadata and rng tensor),
//   the task of meta-iteration s (taskOfStep(seed, s)), the batches of each task (a pure function of
//   (seed, batch index): the per-task counters are recomputed from the task order), and
//   ε at s (ε0 · (1 − s / total steps): the planned epoch count is part of the schedule).
// So a resume takes every setting that shapes that function from the run (checkpoint state and
// multitask.json) and refuses one line per setting given that differs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.js';
import type { StatefulOptimizer } from '../nn/index.js';
import type { EpochLog, TrainState } from '../train/types.js';
import { readManifest } from './manifest.js';
import { checkpointState, drawnBefore } from './resume.js';
import { modelFiles } from './files.js';
import { taskNames } from './tasks.js';

/** The settings that fix a meta-training run's trajectory. */
export interface MetaSettings {
  algorithm: 'reptile' | 'fomaml';
  seed: number;
  alpha: number;
  epochs: number;
  itersPerEpoch: number;
  innerSteps: number;
  innerLr: number;
  outerStep: number;
}

export interface MetaResumePoint {
  settings: MetaSettings;
  state: TrainState;
}

const FLAG: Record<keyof MetaSettings, string> = {
  algorithm: '--algorithm',
  seed: '--seed',
  alpha: '--alpha',
  epochs: '--epochs',
  itersPerEpoch: '--iters-per-epoch',
  innerSteps: '--inner-steps',
  innerLr: '--inner-lr',
  outerStep: '--outer-step',
};

/**
 * The run in `modelDir` and its settings; an option given (not undefined) that differs from the run's
 * is refused, naming it. `datasets` must be the run's, in the same order (task order and stems
 * depend on it).
 */
export async function readMetaResumePoint(
  modelDir: string,
  datasets: string[],
  given: Partial<MetaSettings>,
): Promise<MetaResumePoint> {
  const files = modelFiles(modelDir);
  if (!existsSync(files.latest))
    throw new Error(
      `${modelDir}: nothing to resume (no ${files.latest}); run meta-train without --resume to start`,
    );
  const state = await checkpointState(files.latest);
  const m = await readManifest(modelDir);
  if (m.kind === 'multitask' || !m.meta)
    throw new Error(
      `${modelDir} holds a train-multi run, not a meta-training: resume it with train-multi --resume`,
    );
  const num = (k: string): number => {
    const v = m.meta![k];
    if (typeof v !== 'number') throw new Error(`${modelDir}/multitask.json: meta.${k} is not a number`);
    return v;
  };
  const settings: MetaSettings = {
    algorithm: m.kind,
    seed: state.seed ?? 0,
    alpha: m.alpha,
    epochs: state.totalEpochs,
    itersPerEpoch: state.itersPerEpoch,
    innerSteps: num('innerSteps'),
    innerLr: num('innerLr'),
    outerStep: num('outerStep'),
  };
  for (const k of Object.keys(FLAG) as (keyof MetaSettings)[]) {
    const v = given[k];
    if (v !== undefined && v !== settings[k])
      throw new Error(
        `${modelDir} was meta-trained with ${FLAG[k]} ${settings[k]}, not ${v}: resume it with the run's ${FLAG[k]} (or without it)`,
      );
  }
  const names = taskNames(datasets);
  const had = m.tasks.map((t) => t.name);
  if (names.join() !== had.join())
    throw new Error(
      `${modelDir} was meta-trained on ${had.join(', ')}: resume it with the same datasets in the same order`,
    );
  return { settings, state };
}

/** Batches each task's loader had handed out before meta-iteration `steps` (k per iteration, k + 1
 * for FOMAML: its extra batch at θ'). */
export function metaDrawnBefore(probabilities: number[], s: MetaSettings, steps: number): number[] {
  const perIteration = s.innerSteps + (s.algorithm === 'fomaml' ? 1 : 0);
  return drawnBefore(probabilities, s.seed, steps).map((n) => n * perIteration);
}

/**
 * log.jsonl up to the checkpoint's epoch. The line of an epoch is appended before its checkpoint is
 * written, so a run killed in between has one line more than its checkpoint: it is dropped (the
 * resumed run writes it again) and the file rewritten atomically.
 */
export async function resumeLog(file: string, epoch: number): Promise<EpochLog[]> {
  if (!existsSync(file)) return [];
  const all = (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EpochLog);
  const kept = all.filter((e) => e.epoch <= epoch);
  if (kept.length !== all.length)
    await writeFileAtomic(file, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return kept;
}

/** Meta-training keeps no optimiser state between meta-iterations; loading a checkpoint with this
 * empty one makes loadCheckpoint restore the RNG state too (it does so only when resuming a run). */
export const NO_OPTIMISER_STATE: StatefulOptimizer = {
  stateDict: () => ({ tensors: new Map(), meta: {} }),
  loadStateDict: () => {},
};
