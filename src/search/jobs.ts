// The other job kinds a worker runs: one fold of `train --fold all`, and one shard of a `predict`
// input folder. A fold always runs with resume, so a fold re-queued after its worker died
// continues from that worker's last checkpoint instead of starting over.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConfigurationName } from '../plan/planner.js';

export interface FoldJob {
  dataset: string;
  modelDir: string;
  config: ConfigurationName;
  fold: number;
  epochs?: number;
  itersPerEpoch?: number;
  budgetSeconds?: number;
  optimizer?: 'sgd' | 'adamw';
  initialLr?: number;
  seed?: number;
  memoryGb?: number;
  validate?: boolean;
}

export interface PredictShardJob {
  input: string;
  output: string;
  modelDir: string;
  shard: number;
  shards: number;
  config?: ConfigurationName;
  folds?: number[];
  mirror?: boolean;
}

export async function runFoldJob(
  j: FoldJob,
  threads: number | undefined,
  log: (s: string) => void,
): Promise<unknown> {
  const { train } = await import('../crossval/train.js');
  const r = await train({ ...j, threads, resume: true, log });
  return { foldDir: r.foldDir, epochs: r.epochs, bestEmaDice: r.bestEmaDice };
}

/** The cases of shard k of n (every n-th case of the sorted input, starting at k). */
export async function runPredictShardJob(
  j: PredictShardJob,
  threads: number | undefined,
  log: (s: string) => void,
): Promise<unknown> {
  const { findInputCases } = await import('../infer/inputs.js');
  const { predict } = await import('../infer/predict.js');
  const cases = findInputCases(j.input).filter((_, i) => i % j.shards === j.shard);
  if (!cases.length) return { cases: 0 };
  // predict reads a folder: this shard's files, linked under their own names
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medseg-shard-'));
  try {
    for (const c of cases)
      for (const f of c.files) await symlink(path.resolve(f), path.join(dir, path.basename(f)));
    const r = await predict({
      input: dir,
      output: j.output,
      modelDir: j.modelDir,
      config: j.config,
      folds: j.folds,
      mirror: j.mirror,
      threads,
      log,
    });
    return { cases: r.cases.map((c) => c.id) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
