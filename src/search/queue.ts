// Queues jobs for workers: the folds of `train --fold all` (the dataset planned, preprocessed and
// split here first, so no two workers do it at once) and the shards of a `predict` input folder.
import path from 'node:path';
import type { ConfigurationName } from '../plan/planner.js';
import { defaultStorageUrl, isShared, openStorage } from './storage/open.js';
import type { JobRecord } from './storage/types.js';
import type { FoldJob, PredictShardJob } from './jobs.js';

export interface QueueFoldsOptions extends Omit<FoldJob, 'fold' | 'config'> {
  config?: ConfigurationName;
  /** Default: every fold of the splits. */
  folds?: number[];
  storage?: string;
  log?: (s: string) => void;
}

function sharedUrl(url: string): string {
  if (!isShared(url))
    throw new Error(`queued jobs need a store other processes can read (sqlite: or postgresql:), not ${url}`);
  return url;
}

export async function queueFolds(o: QueueFoldsOptions): Promise<JobRecord[]> {
  const url = sharedUrl(o.storage ?? defaultStorageUrl(o.modelDir));
  const storage = await openStorage(url);
  try {
    const config = o.config ?? '3d_fullres';
    const { prepare } = await import('../train/prepare.js');
    const { loadOrCreateSplits } = await import('../train/splits.js');
    const p = await prepare(o.dataset, o.modelDir, config, { memoryGb: o.memoryGb, log: o.log });
    const splits = await loadOrCreateSplits(
      o.modelDir,
      p.dataset.training.map((c) => c.id),
    );
    const folds = o.folds ?? splits.map((_, f) => f);
    const bad = folds.filter((f) => !splits[f]);
    if (bad.length)
      throw new Error(`fold(s) ${bad.join(', ')} do not exist: the dataset has ${splits.length} fold(s)`);
    const { storage: _s, log: _l, folds: _f, ...rest } = o;
    const jobs: JobRecord[] = [];
    for (const fold of folds) {
      const payload: FoldJob = {
        ...rest,
        dataset: path.resolve(o.dataset),
        modelDir: path.resolve(o.modelDir),
        config,
        fold,
      };
      jobs.push(await storage.enqueueJob('fold', payload));
    }
    return jobs;
  } finally {
    await storage.close();
  }
}

export interface QueuePredictOptions extends Omit<PredictShardJob, 'shard'> {
  storage: string;
}

export async function queuePredict(o: QueuePredictOptions): Promise<JobRecord[]> {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new Error(`--shards must be a positive integer, got ${o.shards}`);
  const { findInputCases } = await import('../infer/inputs.js');
  const n = findInputCases(o.input).length;
  const storage = await openStorage(sharedUrl(o.storage));
  try {
    const { storage: _s, ...rest } = o;
    const jobs: JobRecord[] = [];
    for (let shard = 0; shard < Math.min(o.shards, n); shard++) {
      const payload: PredictShardJob = {
        ...rest,
        input: path.resolve(o.input),
        output: path.resolve(o.output),
        modelDir: path.resolve(o.modelDir),
        shards: Math.min(o.shards, n),
        shard,
      };
      jobs.push(await storage.enqueueJob('predict-shard', payload));
    }
    return jobs;
  } finally {
    await storage.close();
  }
}
