// The coordination store of searches and jobs: studies, their trials, and a job queue any worker
// takes from. Three implementations share this interface and its tests: in memory (one process),
// SQLite (one machine, the default: MODEL/search.sqlite) and PostgreSQL (many machines).
//
// Claims happen in transactions, so a job is never held by two workers; a running job carries its
// worker's id and a heartbeat time. A job whose heartbeat is older than the grace period is taken
// from its (dead) worker: marked failed with that reason and queued again as a new job (a trial as a
// new trial number with the same parameters) that records where it came from — never lost, never
// run twice at once (the old worker's later reports and result are refused).
import type { Params } from '../space.js';

export type TrialState = 'waiting' | 'running' | 'complete' | 'pruned' | 'failed';
export type JobState = 'waiting' | 'running' | 'done' | 'failed';
export type JobKind = 'trial' | 'fold' | 'predict-shard';

export interface StudyRecord {
  id: number;
  name: string;
  /** How many trials the study runs (re-queued trials do not count again). */
  target: number;
  /** What a worker needs to run a trial (see study.ts: StudyConfig). */
  config: unknown;
}

export interface TrialRecord {
  studyId: number;
  number: number;
  state: TrialState;
  /** The objective (larger is better); a pruned trial's best intermediate value. */
  value: number | null;
  params: Params;
  /** Per-epoch values reported while it ran, epoch → value. */
  intermediate: Record<number, number>;
  /** The trial this one re-runs (its worker died), else null. */
  requeuedFrom: number | null;
  jobId: number;
  workerId: string | null;
  heartbeatMs: number | null;
  error: string | null;
}

export interface JobRecord {
  id: number;
  kind: JobKind;
  payload: unknown;
  state: JobState;
  workerId: string | null;
  heartbeatMs: number | null;
  /** 1 for a new job, +1 for each re-queue after a dead worker. */
  attempt: number;
  requeuedFrom: number | null;
  error: string | null;
  result: unknown;
  /** Set for trial jobs. */
  studyId: number | null;
  trialNumber: number | null;
}

export interface Outcome {
  state: 'complete' | 'pruned' | 'failed';
  value?: number | null;
  error?: string;
  result?: unknown;
}

export interface ClaimOptions {
  /** A running job whose heartbeat is older than this is taken from its worker (ms). */
  graceMs: number;
  /** Re-queue a dead worker's job at most until this attempt (default 3); then it stays failed. */
  maxAttempts?: number;
  /** Only these kinds (default: all). */
  kinds?: JobKind[];
  /** Only trials of these studies (other kinds are unaffected). */
  studyIds?: number[];
}

export interface Storage {
  /** The URL it was opened with (passwords masked). */
  readonly url: string;
  close(): Promise<void>;

  /** Creates the study, or returns the existing one of that name with its target raised to `target`. */
  createStudy(name: string, target: number, config: unknown): Promise<StudyRecord>;
  getStudy(name: string): Promise<StudyRecord | null>;
  listStudies(): Promise<StudyRecord[]>;
  trials(studyId: number): Promise<TrialRecord[]>;

  /**
   * Starts a new trial of the study, claimed by workerId, when fewer than `target` trials exist
   * (counting originals, not re-queues). `propose` sees every trial so far and returns the
   * parameters; it runs inside the transaction, so concurrent workers propose one after another.
   */
  startTrial(
    studyId: number,
    workerId: string,
    propose: (trials: TrialRecord[]) => Params,
  ): Promise<{ trial: TrialRecord; job: JobRecord } | null>;

  /** Queues a trial with given parameters (it counts towards the target; null when the study is full). */
  enqueueTrial(studyId: number, params: Params): Promise<TrialRecord | null>;

  enqueueJob(kind: Exclude<JobKind, 'trial'>, payload: unknown): Promise<JobRecord>;
  jobs(): Promise<JobRecord[]>;
  /** First takes dead workers' jobs back (see above), then claims the oldest waiting job. */
  claim(workerId: string, o: ClaimOptions): Promise<JobRecord | null>;
  /** Only the reaping half of claim; returns the jobs it re-queued or failed. */
  reap(o: ClaimOptions): Promise<number>;

  /** Refreshes the job's heartbeat; false when the job is no longer this worker's. */
  heartbeat(jobId: number, workerId: string): Promise<boolean>;
  /** Records a trial job's value after an epoch; false when the job is no longer this worker's. */
  report(jobId: number, workerId: string, epoch: number, value: number): Promise<boolean>;
  /** Values every trial of the study recorded after `epoch` (for pruning). */
  valuesAt(studyId: number, epoch: number): Promise<{ number: number; value: number }[]>;
  /** Ends a job (and its trial); false when it is no longer this worker's (nothing is written). */
  finish(jobId: number, workerId: string, outcome: Outcome): Promise<boolean>;
}

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}
