// The SQL implementation of Storage, shared by SQLite and PostgreSQL: the same tables and
// statements, with the dialect's row locks (PostgreSQL: SELECT … FOR UPDATE [SKIP LOCKED]; SQLite
// locks the whole database for a write transaction, BEGIN IMMEDIATE, so it needs none).
import type { Params } from '../space.js';
import {
  StorageError,
  type ClaimOptions,
  type JobKind,
  type JobRecord,
  type JobState,
  type Outcome,
  type Storage,
  type StudyRecord,
  type TrialRecord,
  type TrialState,
} from './types.js';

export type Row = Record<string, unknown>;

export interface SqlTx {
  /** Runs one statement with `?` placeholders; returns its rows (use RETURNING for writes). */
  all(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  readonly url: string;
  /** Runs fn in one transaction (write: a write lock from the start on SQLite). */
  tx<T>(fn: (q: SqlTx) => Promise<T>, write: boolean): Promise<T>;
  close(): Promise<void>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function schema(d: SqlDriver['dialect']): string[] {
  const id = d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  return [
    `CREATE TABLE IF NOT EXISTS medseg_studies (id ${id}, name TEXT NOT NULL UNIQUE,
       target INTEGER NOT NULL, config TEXT NOT NULL, created_ms BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS medseg_jobs (id ${id}, kind TEXT NOT NULL, payload TEXT NOT NULL,
       state TEXT NOT NULL, worker TEXT, heartbeat_ms BIGINT, attempt INTEGER NOT NULL,
       requeued_from BIGINT, error TEXT, result TEXT, study_id BIGINT, trial_number INTEGER,
       created_ms BIGINT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS medseg_jobs_state ON medseg_jobs (state, id)`,
    `CREATE TABLE IF NOT EXISTS medseg_trials (study_id BIGINT NOT NULL, number INTEGER NOT NULL,
       state TEXT NOT NULL, value DOUBLE PRECISION, params TEXT NOT NULL, requeued_from INTEGER,
       job_id BIGINT NOT NULL, error TEXT, PRIMARY KEY (study_id, number))`,
    `CREATE TABLE IF NOT EXISTS medseg_trial_values (study_id BIGINT NOT NULL, number INTEGER NOT NULL,
       epoch INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY (study_id, number, epoch))`,
  ];
}

function toJob(r: Row): JobRecord {
  return {
    id: Number(r.id),
    kind: r.kind as JobKind,
    payload: JSON.parse(r.payload as string) as unknown,
    state: r.state as JobState,
    workerId: (r.worker as string | null) ?? null,
    heartbeatMs: num(r.heartbeat_ms),
    attempt: Number(r.attempt),
    requeuedFrom: num(r.requeued_from),
    error: (r.error as string | null) ?? null,
    result: r.result ? (JSON.parse(r.result as string) as unknown) : null,
    studyId: num(r.study_id),
    trialNumber: num(r.trial_number),
  };
}

const toStudy = (r: Row): StudyRecord => ({
  id: Number(r.id),
  name: r.name as string,
  target: Number(r.target),
  config: JSON.parse(r.config as string) as unknown,
});

export class SqlStorage implements Storage {
  private constructor(private readonly db: SqlDriver) {}

  get url(): string {
    return this.db.url;
  }

  static async open(db: SqlDriver): Promise<SqlStorage> {
    await db.tx(async (q) => {
      // concurrent first opens on PostgreSQL: one creates the tables, the others wait for it
      if (db.dialect === 'postgres') await q.all('SELECT pg_advisory_xact_lock(4207114)');
      for (const s of schema(db.dialect)) await q.all(s);
    }, true);
    return new SqlStorage(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private get lockSkip(): string {
    return this.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  }

  private get lock(): string {
    return this.db.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }

  async createStudy(name: string, target: number, config: unknown): Promise<StudyRecord> {
    return this.db.tx(async (q) => {
      const was = await q.all(`SELECT * FROM medseg_studies WHERE name = ?${this.lock}`, [name]);
      if (was.length) {
        const s = toStudy(was[0]!);
        if (target > s.target)
          await q.all('UPDATE medseg_studies SET target = ? WHERE id = ?', [target, s.id]);
        return { ...s, target: Math.max(target, s.target) };
      }
      const rows = await q.all(
        'INSERT INTO medseg_studies (name, target, config, created_ms) VALUES (?, ?, ?, ?) RETURNING *',
        [name, target, JSON.stringify(config), Date.now()],
      );
      return toStudy(rows[0]!);
    }, true);
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const rows = await this.db.tx((q) => q.all('SELECT * FROM medseg_studies WHERE name = ?', [name]), false);
    return rows.length ? toStudy(rows[0]!) : null;
  }

  async listStudies(): Promise<StudyRecord[]> {
    const rows = await this.db.tx((q) => q.all('SELECT * FROM medseg_studies ORDER BY id'), false);
    return rows.map(toStudy);
  }

  private async trialsIn(q: SqlTx, studyId: number): Promise<TrialRecord[]> {
    const rows = await q.all(
      `SELECT t.*, j.worker AS worker, j.heartbeat_ms AS heartbeat_ms FROM medseg_trials t
         JOIN medseg_jobs j ON j.id = t.job_id WHERE t.study_id = ? ORDER BY t.number`,
      [studyId],
    );
    const values = await q.all(
      'SELECT number, epoch, value FROM medseg_trial_values WHERE study_id = ? ORDER BY number, epoch',
      [studyId],
    );
    const byTrial = new Map<number, Record<number, number>>();
    for (const v of values) {
      const n = Number(v.number);
      if (!byTrial.has(n)) byTrial.set(n, {});
      byTrial.get(n)![Number(v.epoch)] = Number(v.value);
    }
    return rows.map((r) => ({
      studyId: Number(r.study_id),
      number: Number(r.number),
      state: r.state as TrialState,
      value: num(r.value),
      params: JSON.parse(r.params as string) as Params,
      intermediate: byTrial.get(Number(r.number)) ?? {},
      requeuedFrom: num(r.requeued_from),
      jobId: Number(r.job_id),
      workerId: (r.worker as string | null) ?? null,
      heartbeatMs: num(r.heartbeat_ms),
      error: (r.error as string | null) ?? null,
    }));
  }

  trials(studyId: number): Promise<TrialRecord[]> {
    return this.db.tx((q) => this.trialsIn(q, studyId), false);
  }

  /** Inserts a trial and its job (the study row must be locked by the caller). */
  private async insertTrial(
    q: SqlTx,
    studyId: number,
    params: Params,
    requeue: { from: number; attempt: number; fromJob: number } | null,
    workerId: string | null,
  ): Promise<{ trial: TrialRecord; job: JobRecord }> {
    const next = await q.all(
      'SELECT COALESCE(MAX(number), -1) + 1 AS n FROM medseg_trials WHERE study_id = ?',
      [studyId],
    );
    const number = Number(next[0]!.n);
    const now = Date.now();
    const jobRows = await q.all(
      `INSERT INTO medseg_jobs (kind, payload, state, worker, heartbeat_ms, attempt, requeued_from,
         study_id, trial_number, created_ms) VALUES ('trial', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [
        JSON.stringify({ studyId, trialNumber: number }),
        workerId ? 'running' : 'waiting',
        workerId,
        workerId ? now : null,
        requeue?.attempt ?? 1,
        requeue?.fromJob ?? null,
        studyId,
        number,
        now,
      ],
    );
    const job = toJob(jobRows[0]!);
    await q.all(
      `INSERT INTO medseg_trials (study_id, number, state, params, requeued_from, job_id) VALUES (?, ?, ?, ?, ?, ?)`,
      [
        studyId,
        number,
        workerId ? 'running' : 'waiting',
        JSON.stringify(params),
        requeue?.from ?? null,
        job.id,
      ],
    );
    const trial: TrialRecord = {
      studyId,
      number,
      state: workerId ? 'running' : 'waiting',
      value: null,
      params,
      intermediate: {},
      requeuedFrom: requeue?.from ?? null,
      jobId: job.id,
      workerId,
      heartbeatMs: job.heartbeatMs,
      error: null,
    };
    return { trial, job };
  }

  async startTrial(
    studyId: number,
    workerId: string,
    propose: (trials: TrialRecord[]) => Params,
  ): Promise<{ trial: TrialRecord; job: JobRecord } | null> {
    return this.db.tx(async (q) => {
      const s = await q.all(`SELECT target FROM medseg_studies WHERE id = ?${this.lock}`, [studyId]);
      if (!s.length) throw new StorageError(`no study with id ${studyId}`);
      const trials = await this.trialsIn(q, studyId);
      const originals = trials.filter((t) => t.requeuedFrom === null).length;
      if (originals >= Number(s[0]!.target)) return null;
      return this.insertTrial(q, studyId, propose(trials), null, workerId);
    }, true);
  }

  async enqueueTrial(studyId: number, params: Params): Promise<TrialRecord | null> {
    return this.db.tx(async (q) => {
      const s = await q.all(`SELECT target FROM medseg_studies WHERE id = ?${this.lock}`, [studyId]);
      if (!s.length) throw new StorageError(`no study with id ${studyId}`);
      const n = await q.all(
        'SELECT COUNT(*) AS n FROM medseg_trials WHERE study_id = ? AND requeued_from IS NULL',
        [studyId],
      );
      if (Number(n[0]!.n) >= Number(s[0]!.target)) return null;
      return (await this.insertTrial(q, studyId, params, null, null)).trial;
    }, true);
  }

  async enqueueJob(kind: Exclude<JobKind, 'trial'>, payload: unknown): Promise<JobRecord> {
    const rows = await this.db.tx(
      (q) =>
        q.all(
          `INSERT INTO medseg_jobs (kind, payload, state, attempt, created_ms) VALUES (?, ?, 'waiting', 1, ?) RETURNING *`,
          [kind, JSON.stringify(payload), Date.now()],
        ),
      true,
    );
    return toJob(rows[0]!);
  }

  async jobs(): Promise<JobRecord[]> {
    const rows = await this.db.tx((q) => q.all('SELECT * FROM medseg_jobs ORDER BY id'), false);
    return rows.map(toJob);
  }

  private async reapIn(q: SqlTx, o: ClaimOptions): Promise<number> {
    const now = Date.now();
    const stale = (
      await q.all(
        `SELECT * FROM medseg_jobs WHERE state = 'running' AND heartbeat_ms < ? ORDER BY id${this.lockSkip}`,
        [now - o.graceMs],
      )
    ).map(toJob);
    for (const j of stale) {
      const why = `worker ${j.workerId} sent no heartbeat for ${((now - j.heartbeatMs!) / 1000).toFixed(1)} s (grace ${(o.graceMs / 1000).toFixed(1)} s): presumed dead`;
      const again = j.attempt < (o.maxAttempts ?? 3);
      await q.all(
        `UPDATE medseg_jobs SET state = 'failed', error = ? WHERE id = ? AND state = 'running' RETURNING id`,
        [again ? `${why}; re-queued` : `${why}; not re-queued after ${j.attempt} attempts`, j.id],
      );
      if (j.kind === 'trial') {
        await q.all(`SELECT id FROM medseg_studies WHERE id = ?${this.lock}`, [j.studyId]);
        await q.all(
          `UPDATE medseg_trials SET state = 'failed', error = ? WHERE study_id = ? AND number = ?`,
          [why, j.studyId, j.trialNumber],
        );
        if (again) {
          const t = await q.all('SELECT params FROM medseg_trials WHERE study_id = ? AND number = ?', [
            j.studyId,
            j.trialNumber,
          ]);
          await this.insertTrial(
            q,
            j.studyId!,
            JSON.parse(t[0]!.params as string) as Params,
            { from: j.trialNumber!, attempt: j.attempt + 1, fromJob: j.id },
            null,
          );
        }
      } else if (again) {
        await q.all(
          `INSERT INTO medseg_jobs (kind, payload, state, attempt, requeued_from, created_ms)
             VALUES (?, ?, 'waiting', ?, ?, ?) RETURNING id`,
          [j.kind, JSON.stringify(j.payload), j.attempt + 1, j.id, now],
        );
      }
    }
    return stale.length;
  }

  reap(o: ClaimOptions): Promise<number> {
    return this.db.tx((q) => this.reapIn(q, o), true);
  }

  async claim(workerId: string, o: ClaimOptions): Promise<JobRecord | null> {
    await this.reap(o);
    return this.db.tx(async (q) => {
      const where = ["state = 'waiting'"];
      const params: unknown[] = [];
      if (o.kinds) {
        where.push(`kind IN (${o.kinds.map(() => '?').join(', ')})`);
        params.push(...o.kinds);
      }
      if (o.studyIds) {
        where.push(`(kind <> 'trial' OR study_id IN (${o.studyIds.map(() => '?').join(', ') || 'NULL'}))`);
        params.push(...o.studyIds);
      }
      const rows = await q.all(
        `SELECT * FROM medseg_jobs WHERE ${where.join(' AND ')} ORDER BY id LIMIT 1${this.lockSkip}`,
        params,
      );
      if (!rows.length) return null;
      const job = toJob(rows[0]!);
      const now = Date.now();
      await q.all(
        `UPDATE medseg_jobs SET state = 'running', worker = ?, heartbeat_ms = ? WHERE id = ? RETURNING id`,
        [workerId, now, job.id],
      );
      if (job.kind === 'trial')
        await q.all(`UPDATE medseg_trials SET state = 'running' WHERE study_id = ? AND number = ?`, [
          job.studyId,
          job.trialNumber,
        ]);
      return { ...job, state: 'running', workerId, heartbeatMs: now };
    }, true);
  }

  async heartbeat(jobId: number, workerId: string): Promise<boolean> {
    const rows = await this.db.tx(
      (q) =>
        q.all(
          `UPDATE medseg_jobs SET heartbeat_ms = ? WHERE id = ? AND worker = ? AND state = 'running' RETURNING id`,
          [Date.now(), jobId, workerId],
        ),
      true,
    );
    return rows.length > 0;
  }

  async report(jobId: number, workerId: string, epoch: number, value: number): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.all(
        `UPDATE medseg_jobs SET heartbeat_ms = ? WHERE id = ? AND worker = ? AND state = 'running'
           RETURNING study_id, trial_number`,
        [Date.now(), jobId, workerId],
      );
      if (!rows.length) return false;
      const r = rows[0]!;
      if (r.study_id === null) throw new StorageError(`job ${jobId} is not a trial`);
      await q.all('DELETE FROM medseg_trial_values WHERE study_id = ? AND number = ? AND epoch = ?', [
        r.study_id,
        r.trial_number,
        epoch,
      ]);
      await q.all('INSERT INTO medseg_trial_values (study_id, number, epoch, value) VALUES (?, ?, ?, ?)', [
        r.study_id,
        r.trial_number,
        epoch,
        value,
      ]);
      return true;
    }, true);
  }

  async valuesAt(studyId: number, epoch: number): Promise<{ number: number; value: number }[]> {
    const rows = await this.db.tx(
      (q) =>
        q.all(
          'SELECT number, value FROM medseg_trial_values WHERE study_id = ? AND epoch = ? ORDER BY number',
          [studyId, epoch],
        ),
      false,
    );
    return rows.map((r) => ({ number: Number(r.number), value: Number(r.value) }));
  }

  async finish(jobId: number, workerId: string, outcome: Outcome): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.all(
        `UPDATE medseg_jobs SET state = ?, error = ?, result = ?, heartbeat_ms = ?
           WHERE id = ? AND worker = ? AND state = 'running' RETURNING study_id, trial_number`,
        [
          outcome.state === 'failed' ? 'failed' : 'done',
          outcome.error ?? null,
          outcome.result === undefined ? null : JSON.stringify(outcome.result),
          Date.now(),
          jobId,
          workerId,
        ],
      );
      if (!rows.length) return false;
      const r = rows[0]!;
      if (r.study_id !== null)
        await q.all(
          'UPDATE medseg_trials SET state = ?, value = ?, error = ? WHERE study_id = ? AND number = ?',
          [outcome.state, outcome.value ?? null, outcome.error ?? null, r.study_id, r.trial_number],
        );
      return true;
    }, true);
  }
}
