// A worker: takes the next job from the store and runs it, until there is nothing left. Jobs are
// queued trials (a re-queued one included), folds and predict shards; when none waits, it starts a
// new trial of a study that has fewer trials than its target, proposing the parameters with the
// study's sampler inside the claim. While a job runs, the worker sends heartbeats; when one is
// refused (the job was taken from it after a silence longer than the grace period), the trial stops
// at its next epoch and its result is discarded, so a job never counts twice.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { Rng, hashSeed } from '../common/random.js';
import { ashaShouldStop } from './asha.js';
import { runFoldJob, runPredictShardJob, type FoldJob, type PredictShardJob } from './jobs.js';
import { runObjective, type StudyConfig } from './objective.js';
import type { Observation } from './sampler.js';
import { makeSampler } from './tpe.js';
import { isShared } from './storage/open.js';
import type { ClaimOptions, JobRecord, Storage, StudyRecord, TrialRecord } from './storage/types.js';

export interface WorkerOptions {
  storage: Storage;
  /** The store's URL (with its password): heartbeats then come from a thread with its own
   * connection, so that long synchronous work cannot silence a live worker. */
  storageUrl?: string;
  /** Default: host:pid. */
  workerId?: string;
  /** A running job silent this long is taken from its worker (default 120 s). */
  graceMs?: number;
  /** Heartbeat period (default grace / 6). */
  heartbeatMs?: number;
  /** Wait between looks at an empty queue (default 1 s). */
  pollMs?: number;
  /** Only trials of these studies (default: every study). */
  studies?: string[];
  /** Keep polling when there is nothing to do (default false: exit once nothing waits or runs). */
  forever?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

export interface WorkerResult {
  workerId: string;
  jobs: { id: number; kind: JobRecord['kind']; state: string; trial?: number }[];
}

const heartbeatScript = fileURLToPath(new URL('./heartbeatThread.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What samplers see: finished trials with a value (failed ones carry no information). */
export function observations(trials: TrialRecord[]): Observation[] {
  return trials
    .filter(
      (t) => (t.state === 'complete' || t.state === 'pruned') && t.value !== null && Number.isFinite(t.value),
    )
    .map((t) => ({ params: t.params, value: t.value!, state: t.state as 'complete' | 'pruned' }));
}

export async function runWorker(o: WorkerOptions): Promise<WorkerResult> {
  const s = o.storage;
  const workerId = o.workerId ?? `${os.hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const graceMs = o.graceMs ?? 120_000;
  const heartbeatMs = o.heartbeatMs ?? Math.max(50, graceMs / 6);
  const pollMs = o.pollMs ?? 1000;
  const done: WorkerResult['jobs'] = [];
  const studyCache = new Map<number, StudyRecord>();
  const ourStudies = async (): Promise<StudyRecord[]> => {
    const all = await s.listStudies();
    for (const st of all) studyCache.set(st.id, st);
    return o.studies ? all.filter((st) => o.studies!.includes(st.name)) : all;
  };
  let studies = await ourStudies();
  if (o.studies) {
    const missing = o.studies.filter((n) => !studies.some((st) => st.name === n));
    if (missing.length) throw new Error(`${s.url}: no study named ${missing.join(', ')}`);
  }
  // heartbeats from a thread on its own connection when the store is shared (see heartbeatThread.ts)
  const startHeartbeats = async (jobId: number, onLost: () => void): Promise<() => Promise<void>> => {
    // beats from this thread: all there is for an in-memory store, and the cover while the thread starts
    const timer = setInterval(() => {
      s.heartbeat(jobId, workerId).then(
        (mine) => {
          if (!mine) onLost();
        },
        (e: Error) => log(`heartbeat of job ${jobId} failed: ${e.message}`),
      );
    }, heartbeatMs);
    if (!o.storageUrl || !isShared(o.storageUrl))
      return () => {
        clearInterval(timer);
        return Promise.resolve();
      };
    const t = new Thread(heartbeatScript, {
      workerData: { url: o.storageUrl, jobId, workerId, intervalMs: heartbeatMs },
    });
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((r) => (ready = r));
    t.on('message', (m: string) => {
      if (m === 'ready') ready();
      else if (m === 'lost') onLost();
      else log(`heartbeat of job ${jobId}: ${m}`);
    });
    t.on('error', (e) => {
      log(`heartbeat thread of job ${jobId}: ${e.message}`);
      ready();
    });
    // the job's work may block this thread: it starts once the thread's heartbeats are in place
    await Promise.race([isReady, sleep(30000)]);
    return async () => {
      clearInterval(timer);
      const exited = new Promise((r) => t.once('exit', r));
      t.postMessage('stop');
      await Promise.race([exited, sleep(1000)]);
      await t.terminate();
    };
  };

  const claimOptions = (): ClaimOptions => ({
    graceMs,
    studyIds: o.studies ? studies.map((st) => st.id) : undefined,
  });

  const runJob = async (job: JobRecord): Promise<void> => {
    let lost = false;
    const stopBeating = await startHeartbeats(job.id, () => {
      lost = true;
    });
    let state = 'failed';
    try {
      if (job.kind === 'trial') state = await runTrialJob(job, () => lost);
      else {
        let result: unknown;
        let error: string | undefined;
        try {
          result =
            job.kind === 'fold'
              ? await runFoldJob(job.payload as FoldJob, o.threads, log)
              : await runPredictShardJob(job.payload as PredictShardJob, o.threads, log);
        } catch (e) {
          error = (e as Error).message;
          log(`job ${job.id} (${job.kind}) failed: ${error}`);
        }
        const ok = await s.finish(
          job.id,
          workerId,
          error ? { state: 'failed', error } : { state: 'complete', result },
        );
        state = ok ? (error ? 'failed' : 'done') : 'lost';
      }
    } finally {
      await stopBeating();
    }
    done.push({ id: job.id, kind: job.kind, state, trial: job.trialNumber ?? undefined });
  };

  const runTrialJob = async (job: JobRecord, isLost: () => boolean): Promise<string> => {
    const study = studyCache.get(job.studyId!) ?? (await ourStudies(), studyCache.get(job.studyId!));
    if (!study) throw new Error(`job ${job.id}: its study ${job.studyId} is gone`);
    const config = study.config as StudyConfig;
    const trial = (await s.trials(study.id)).find((t) => t.number === job.trialNumber)!;
    log(
      `${study.name} trial ${trial.number}${trial.requeuedFrom !== null ? ` (re-run of ${trial.requeuedFrom})` : ''}: ${JSON.stringify(trial.params)}`,
    );
    let best = -Infinity;
    let pruned = false;
    try {
      const out = await runObjective(config, {
        number: trial.number,
        params: trial.params,
        threads: o.threads,
        log,
        onEpoch: async (epoch, value, final) => {
          if (Number.isFinite(value)) best = Math.max(best, value);
          if (isLost() || !(await s.report(job.id, workerId, epoch, value))) return 'stop';
          if (config.pruning && !final) {
            const others = (await s.valuesAt(study.id, epoch)).filter((v) => v.number !== trial.number);
            if (
              ashaShouldStop(
                epoch,
                value,
                others.map((v) => v.value),
                config.pruning,
              )
            ) {
              pruned = true;
              return 'stop';
            }
          }
        },
      });
      if (isLost()) return 'lost';
      const state = pruned ? 'pruned' : 'complete';
      const ok = await s.finish(job.id, workerId, {
        state,
        value: pruned ? best : out.value,
        result: out.result,
      });
      log(
        `${study.name} trial ${trial.number} ${ok ? state : 'lost (taken over)'}: ${(pruned ? best : out.value).toFixed(4)}`,
      );
      return ok ? state : 'lost';
    } catch (e) {
      const error = (e as Error).message;
      log(`${study.name} trial ${trial.number} failed: ${error}`);
      const ok = await s.finish(job.id, workerId, { state: 'failed', error });
      return ok ? 'failed' : 'lost';
    }
  };

  for (;;) {
    let job = await s.claim(workerId, claimOptions());
    if (!job) {
      studies = await ourStudies();
      for (const st of studies) {
        const config = st.config as StudyConfig;
        const sampler = makeSampler(config.sampler);
        const started = await s.startTrial(st.id, workerId, (trials) =>
          sampler.sample(
            config.space,
            observations(trials),
            new Rng(hashSeed('trial', config.seed, trials.length)),
          ),
        );
        if (started) {
          job = started.job;
          break;
        }
      }
    }
    if (job) {
      await runJob(job);
      continue;
    }
    if (!o.forever) {
      // nothing to take: finished unless another worker still runs something that may come back
      const ids = new Set(studies.map((st) => st.id));
      const open = (await s.jobs()).filter(
        (j) =>
          (j.state === 'running' || j.state === 'waiting') &&
          (j.kind !== 'trial' || !o.studies || ids.has(j.studyId!)),
      );
      if (!open.length) break;
    }
    await sleep(pollMs);
  }
  return { workerId, jobs: done };
}
