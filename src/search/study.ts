// `medseg search`: one study in a store, trials run by W workers (W = 1: in this process; more:
// child processes of `workerProcess.js`, each a `medseg worker` on the same store). Before any
// trial: the space is validated, the store answers, the dataset is planned and preprocessed once
// (every trial reads the same preprocessed cases) and the splits exist.
import { readPlans } from '../plan/schema.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic.js';
import type { ConfigurationName } from '../plan/planner.js';
import { writePlans } from '../plan/planner.js';
import { DEFAULT_SPACE, validateSpace, type Params, type Space } from './space.js';
import type { StudyConfig } from './objective.js';
import { trialDirOf } from './objective.js';
import { defaultStorageUrl, isShared, openStorage } from './storage/open.js';
import type { Storage, StudyRecord, TrialRecord, TrialState } from './storage/types.js';
import { runWorker } from './worker.js';
import { trainOptionsOf } from './trialPlan.js';
import { checkTrainOptions } from '../train/checkOptions.js';

export interface SearchOptions {
  dataset: string;
  modelDir: string;
  trials: number;
  workers?: number;
  /** Default: sqlite:MODEL/search.sqlite. */
  storage?: string;
  space?: Space;
  sampler?: 'tpe' | 'random';
  /** ASHA (η = 3, first rung after 1 epoch); false: every trial runs all its epochs. */
  pruning?: boolean;
  config?: ConfigurationName;
  fold?: number;
  epochs?: number;
  itersPerEpoch?: number;
  budgetSeconds?: number;
  memoryGb?: number;
  seed?: number;
  /** Study name (default 'search'). */
  study?: string;
  /** Parameters of the first trials, as given (then the sampler's). */
  enqueue?: Params[];
  /** Threads per worker (default: this machine's cores / workers). */
  threads?: number;
  /** Worker heartbeat grace (ms). */
  graceMs?: number;
  log?: (s: string) => void;
}

export interface TrialSummary {
  number: number;
  state: TrialState;
  value: number | null;
  params: Params;
  requeuedFrom: number | null;
  workerId: string | null;
  error: string | null;
  intermediate: Record<number, number>;
}

export interface SearchResult {
  study: string;
  storage: string;
  trials: TrialSummary[];
  best: TrialSummary | null;
}

export const summarize = (t: TrialRecord): TrialSummary => ({
  number: t.number,
  state: t.state,
  value: t.value,
  params: t.params,
  requeuedFrom: t.requeuedFrom,
  workerId: t.workerId,
  error: t.error,
  intermediate: t.intermediate,
});

/** The best complete trial (largest value; pruned ones only when nothing completed). */
export function bestOf(trials: TrialSummary[]): TrialSummary | null {
  const rank = (s: TrialState) => (s === 'complete' ? 0 : s === 'pruned' ? 1 : 2);
  const done = trials.filter((t) => rank(t.state) < 2 && t.value !== null && Number.isFinite(t.value));
  done.sort((a, b) => rank(a.state) - rank(b.state) || b.value! - a.value!);
  return done[0] ?? null;
}

const workerScript = fileURLToPath(new URL('./workerProcess.js', import.meta.url));

/** Runs `medseg worker` processes on the store until the study is done. */
async function spawnWorkers(
  url: string,
  study: string,
  n: number,
  threads: number,
  graceMs: number | undefined,
  log: (s: string) => void,
): Promise<void> {
  const runs = Array.from({ length: n }, (_, i) => {
    const args = JSON.stringify({
      storage: url,
      studies: [study],
      threads,
      graceMs,
      workerId: `${os.hostname()}:w${i}`,
    });
    return new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [workerScript, args], { stdio: ['ignore', 'inherit', 'pipe'] });
      let tail = '';
      child.stderr.on('data', (d: Buffer) => {
        const text = String(d);
        tail = (tail + text).slice(-2000);
        for (const line of text.split('\n').filter(Boolean)) log(`[w${i}] ${line}`);
      });
      child.on('exit', (code, sig) =>
        code === 0
          ? resolve()
          : reject(
              new Error(`worker ${i} exited with ${sig ?? code}: ${tail.trim().split('\n').at(-1) ?? ''}`),
            ),
      );
    });
  });
  const results = await Promise.allSettled(runs);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  // a worker that died is not fatal while another finished the study (its trial was re-queued)
  if (failed.length === n) throw failed[0]!.reason as Error;
  for (const f of failed) log(`${(f.reason as Error).message}`);
}

export async function search(o: SearchOptions): Promise<SearchResult> {
  const log = o.log ?? (() => {});
  const space = o.space ?? DEFAULT_SPACE;
  validateSpace(space, 'search space');
  if (!Number.isInteger(o.trials) || o.trials < 1)
    throw new Error(`--trials must be a positive integer, got ${o.trials}`);
  // the options every trial trains with: refused once, here, rather than failing each trial
  const { config, fold, epochs, itersPerEpoch, budgetSeconds, memoryGb, seed, threads } = o;
  checkTrainOptions(
    { config, fold, epochs, itersPerEpoch, budgetSeconds, memoryGb, seed, threads },
    'search',
  );
  const workers = o.workers ?? 1;
  const url = o.storage ?? defaultStorageUrl(o.modelDir);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(o.modelDir, { recursive: true });
  if (workers > 1 && !isShared(url))
    throw new Error(`--workers ${workers} needs a shared store (sqlite: or postgresql:), not ${url}`);
  const storage = await openStorage(url);
  try {
    const configName = o.config ?? '3d_fullres';
    const name = o.study ?? 'search';
    // plan, preprocess and split once, here, so that no two workers do it at the same time
    const { prepare } = await import('../train/prepare.js');
    const { loadOrCreateSplits } = await import('../train/splits.js');
    const p = await prepare(o.dataset, o.modelDir, configName, { memoryGb: o.memoryGb, log });
    const splits = await loadOrCreateSplits(
      o.modelDir,
      p.dataset.training.map((c) => c.id),
    );
    const fold = o.fold ?? 0;
    if (!splits[fold])
      throw new Error(`fold ${fold} does not exist: the dataset has ${splits.length} fold(s)`);
    const config: StudyConfig = {
      objective: 'train',
      space,
      sampler: o.sampler ?? 'tpe',
      seed: o.seed ?? 0,
      pruning: o.pruning === false ? null : { eta: 3, minEpochs: 1 },
      dataset: path.resolve(o.dataset),
      modelDir: path.resolve(o.modelDir),
      config: configName,
      fold,
      epochs: o.epochs,
      itersPerEpoch: o.itersPerEpoch,
      budgetSeconds: o.budgetSeconds,
      memoryGb: o.memoryGb,
    };
    const study = await openStudy(storage, name, o.trials, config);
    for (const params of o.enqueue ?? []) await storage.enqueueTrial(study.id, params);
    const threads = o.threads ?? Math.max(1, Math.floor(os.availableParallelism() / workers));
    log(`study '${name}' in ${storage.url}: ${o.trials} trials, ${workers} worker(s), ${config.sampler}`);
    if (workers === 1)
      await runWorker({ storage, storageUrl: url, studies: [name], threads, graceMs: o.graceMs, log });
    else await spawnWorkers(url, name, workers, threads, o.graceMs, log);
    const trials = (await storage.trials(study.id)).map(summarize);
    return { study: name, storage: storage.url, trials, best: bestOf(trials) };
  } finally {
    await storage.close();
  }
}

/** Creates the study, or continues an existing one with the same space and settings. */
export async function openStudy(
  storage: Storage,
  name: string,
  trials: number,
  config: StudyConfig,
): Promise<StudyRecord> {
  const study = await storage.createStudy(name, trials, config);
  const was = JSON.stringify(study.config);
  if (was !== JSON.stringify(config))
    throw new Error(
      `${storage.url} already holds a study '${name}' with other settings (space, sampler, epochs, dataset): ` +
        `choose another --study name, or repeat the first run's options to continue it`,
    );
  return study;
}

export interface StatusOptions {
  modelDir: string;
  storage?: string;
  study?: string;
}

export async function searchStatus(o: StatusOptions): Promise<SearchResult> {
  const url = o.storage ?? defaultStorageUrl(o.modelDir);
  if (!o.storage && !existsSync(path.join(o.modelDir, 'search.sqlite')))
    throw new Error(`${o.modelDir}: no search here (no search.sqlite; give --storage for another store)`);
  const storage = await openStorage(url);
  try {
    const name = o.study ?? 'search';
    const study = await storage.getStudy(name);
    if (!study) throw new Error(`${storage.url}: no study named '${name}'`);
    const trials = (await storage.trials(study.id)).map(summarize);
    return { study: name, storage: storage.url, trials, best: bestOf(trials) };
  } finally {
    await storage.close();
  }
}

/**
 * The best trial's plans as the model folder's plans.json (the previous one kept as
 * plans.before-search.json), and search_best.json with its parameters and the train command.
 */
export async function writeBestPlans(
  o: StatusOptions,
): Promise<{ best: TrialSummary; plansFile: string; command: string }> {
  const status = await searchStatus(o);
  const best = status.best;
  if (!best) throw new Error(`study '${status.study}' has no complete trial yet`);
  const trialPlans = path.join(trialDirOf(o.modelDir, best.number), 'plans.json');
  if (!existsSync(trialPlans))
    throw new Error(`${trialPlans} is missing (was the trial run on another file system?)`);
  const plans = await readPlans(trialPlans);
  const current = path.join(o.modelDir, 'plans.json');
  const backup = path.join(o.modelDir, 'plans.before-search.json');
  if (existsSync(current) && !existsSync(backup)) await writeFileAtomic(backup, await readFile(current));
  const plansFile = await writePlans(o.modelDir, plans);
  const t = trainOptionsOf(best.params);
  const args = [
    t.optimizer ? `--optimizer ${t.optimizer}` : '',
    t.initialLr !== undefined ? `--lr ${t.initialLr.toPrecision(3)}` : '',
    t.epochs !== undefined ? `--epochs ${t.epochs}` : '',
    t.itersPerEpoch !== undefined ? `--iters-per-epoch ${t.itersPerEpoch}` : '',
  ].filter(Boolean);
  const command = `medseg train DATASET -m ${o.modelDir} --fold all ${args.join(' ')}`.trim();
  await writeFileAtomic(
    path.join(o.modelDir, 'search_best.json'),
    JSON.stringify({ trial: best.number, value: best.value, params: best.params, train: command }, null, 2),
  );
  return { best, plansFile, command };
}
