// Storage in this process's memory: for a search with one in-process worker and for tests. Every
// method runs to completion without awaiting in between, which is what makes it transactional.
import type { Params } from '../space.js';
import {
  StorageError,
  type ClaimOptions,
  type JobKind,
  type JobRecord,
  type Outcome,
  type Storage,
  type StudyRecord,
  type TrialRecord,
} from './types.js';

const clone = <T>(x: T): T => structuredClone(x);

export class MemoryStorage implements Storage {
  readonly url = 'memory:';
  private readonly studies: StudyRecord[] = [];
  private readonly trialRows: TrialRecord[] = [];
  private readonly jobRows: JobRecord[] = [];

  close(): Promise<void> {
    return Promise.resolve();
  }

  createStudy(name: string, target: number, config: unknown): Promise<StudyRecord> {
    let s = this.studies.find((x) => x.name === name);
    if (s) s.target = Math.max(s.target, target);
    else {
      s = { id: this.studies.length + 1, name, target, config: clone(config) };
      this.studies.push(s);
    }
    return Promise.resolve(clone(s));
  }

  getStudy(name: string): Promise<StudyRecord | null> {
    const s = this.studies.find((x) => x.name === name);
    return Promise.resolve(s ? clone(s) : null);
  }

  listStudies(): Promise<StudyRecord[]> {
    return Promise.resolve(clone(this.studies));
  }

  private withJob(t: TrialRecord): TrialRecord {
    const j = this.jobRows.find((x) => x.id === t.jobId)!;
    return clone({ ...t, workerId: j.workerId, heartbeatMs: j.heartbeatMs });
  }

  trials(studyId: number): Promise<TrialRecord[]> {
    return Promise.resolve(this.trialRows.filter((t) => t.studyId === studyId).map((t) => this.withJob(t)));
  }

  private insertTrial(
    studyId: number,
    params: Params,
    requeue: { from: number; attempt: number; fromJob: number } | null,
    workerId: string | null,
  ): { trial: TrialRecord; job: JobRecord } {
    const number = this.trialRows.filter((t) => t.studyId === studyId).length;
    const job: JobRecord = {
      id: this.jobRows.length + 1,
      kind: 'trial',
      payload: { studyId, trialNumber: number },
      state: workerId ? 'running' : 'waiting',
      workerId,
      heartbeatMs: workerId ? Date.now() : null,
      attempt: requeue?.attempt ?? 1,
      requeuedFrom: requeue?.fromJob ?? null,
      error: null,
      result: null,
      studyId,
      trialNumber: number,
    };
    const trial: TrialRecord = {
      studyId,
      number,
      state: workerId ? 'running' : 'waiting',
      value: null,
      params: clone(params),
      intermediate: {},
      requeuedFrom: requeue?.from ?? null,
      jobId: job.id,
      workerId,
      heartbeatMs: job.heartbeatMs,
      error: null,
    };
    this.jobRows.push(job);
    this.trialRows.push(trial);
    return { trial: this.withJob(trial), job: clone(job) };
  }

  startTrial(
    studyId: number,
    workerId: string,
    propose: (trials: TrialRecord[]) => Params,
  ): Promise<{ trial: TrialRecord; job: JobRecord } | null> {
    const s = this.studies.find((x) => x.id === studyId);
    if (!s) return Promise.reject(new StorageError(`no study with id ${studyId}`));
    const trials = this.trialRows.filter((t) => t.studyId === studyId).map((t) => this.withJob(t));
    if (trials.filter((t) => t.requeuedFrom === null).length >= s.target) return Promise.resolve(null);
    return Promise.resolve(this.insertTrial(studyId, propose(trials), null, workerId));
  }

  enqueueTrial(studyId: number, params: Params): Promise<TrialRecord | null> {
    const s = this.studies.find((x) => x.id === studyId);
    if (!s) return Promise.reject(new StorageError(`no study with id ${studyId}`));
    const originals = this.trialRows.filter((t) => t.studyId === studyId && t.requeuedFrom === null).length;
    if (originals >= s.target) return Promise.resolve(null);
    return Promise.resolve(this.insertTrial(studyId, params, null, null).trial);
  }

  enqueueJob(kind: Exclude<JobKind, 'trial'>, payload: unknown): Promise<JobRecord> {
    const job: JobRecord = {
      id: this.jobRows.length + 1,
      kind,
      payload: clone(payload),
      state: 'waiting',
      workerId: null,
      heartbeatMs: null,
      attempt: 1,
      requeuedFrom: null,
      error: null,
      result: null,
      studyId: null,
      trialNumber: null,
    };
    this.jobRows.push(job);
    return Promise.resolve(clone(job));
  }

  jobs(): Promise<JobRecord[]> {
    return Promise.resolve(clone(this.jobRows));
  }

  private trialOf(j: JobRecord): TrialRecord | undefined {
    return this.trialRows.find((t) => t.studyId === j.studyId && t.number === j.trialNumber);
  }

  private reapNow(o: ClaimOptions): number {
    const now = Date.now();
    const stale = this.jobRows.filter((j) => j.state === 'running' && j.heartbeatMs! < now - o.graceMs);
    for (const j of stale) {
      const why = `worker ${j.workerId} sent no heartbeat for ${((now - j.heartbeatMs!) / 1000).toFixed(1)} s (grace ${(o.graceMs / 1000).toFixed(1)} s): presumed dead`;
      const again = j.attempt < (o.maxAttempts ?? 3);
      j.state = 'failed';
      j.error = again ? `${why}; re-queued` : `${why}; not re-queued after ${j.attempt} attempts`;
      if (j.kind === 'trial') {
        const t = this.trialOf(j)!;
        t.state = 'failed';
        t.error = why;
        if (again)
          this.insertTrial(
            t.studyId,
            t.params,
            { from: t.number, attempt: j.attempt + 1, fromJob: j.id },
            null,
          );
      } else if (again) {
        this.jobRows.push({
          ...clone(j),
          id: this.jobRows.length + 1,
          state: 'waiting',
          workerId: null,
          heartbeatMs: null,
          attempt: j.attempt + 1,
          requeuedFrom: j.id,
          error: null,
        });
      }
    }
    return stale.length;
  }

  reap(o: ClaimOptions): Promise<number> {
    return Promise.resolve(this.reapNow(o));
  }

  claim(workerId: string, o: ClaimOptions): Promise<JobRecord | null> {
    this.reapNow(o);
    const job = this.jobRows.find(
      (j) =>
        j.state === 'waiting' &&
        (!o.kinds || o.kinds.includes(j.kind)) &&
        (!o.studyIds || j.kind !== 'trial' || o.studyIds.includes(j.studyId!)),
    );
    if (!job) return Promise.resolve(null);
    job.state = 'running';
    job.workerId = workerId;
    job.heartbeatMs = Date.now();
    if (job.kind === 'trial') this.trialOf(job)!.state = 'running';
    return Promise.resolve(clone(job));
  }

  private mine(jobId: number, workerId: string): JobRecord | undefined {
    const j = this.jobRows.find((x) => x.id === jobId);
    return j && j.workerId === workerId && j.state === 'running' ? j : undefined;
  }

  heartbeat(jobId: number, workerId: string): Promise<boolean> {
    const j = this.mine(jobId, workerId);
    if (j) j.heartbeatMs = Date.now();
    return Promise.resolve(!!j);
  }

  report(jobId: number, workerId: string, epoch: number, value: number): Promise<boolean> {
    const j = this.mine(jobId, workerId);
    if (!j) return Promise.resolve(false);
    if (j.kind !== 'trial') return Promise.reject(new StorageError(`job ${jobId} is not a trial`));
    j.heartbeatMs = Date.now();
    this.trialOf(j)!.intermediate[epoch] = value;
    return Promise.resolve(true);
  }

  valuesAt(studyId: number, epoch: number): Promise<{ number: number; value: number }[]> {
    return Promise.resolve(
      this.trialRows
        .filter((t) => t.studyId === studyId && t.intermediate[epoch] !== undefined)
        .map((t) => ({ number: t.number, value: t.intermediate[epoch]! })),
    );
  }

  finish(jobId: number, workerId: string, outcome: Outcome): Promise<boolean> {
    const j = this.mine(jobId, workerId);
    if (!j) return Promise.resolve(false);
    j.state = outcome.state === 'failed' ? 'failed' : 'done';
    j.error = outcome.error ?? null;
    j.result = outcome.result === undefined ? null : clone(outcome.result);
    j.heartbeatMs = Date.now();
    if (j.kind === 'trial') {
      const t = this.trialOf(j)!;
      t.state = outcome.state;
      t.value = outcome.value ?? null;
      t.error = outcome.error ?? null;
    }
    return Promise.resolve(true);
  }
}
