// Training batches made ahead of the step in worker threads: patch sampling from the preprocessed
// store and augmentation run in N workers (one libtorch thread each) while the main thread trains;
// batches come back as typed arrays in transfer lists (moved, not copied).
//
// Determinism: the batch of global step s is a pure function of (seed, s) and the stored data —
// its Rngs are derived from (seed, s) alone — so it does not matter which worker makes it, when,
// or whether the run was interrupted and resumed. `workers: 0` makes the same batches in the
// calling thread (tests compare the two bit for bit).
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Tensor, tidy } from '../engine/index.js';
import type { StoredCase } from '../preprocess/store.js';
import { Rng, hashSeed } from '../common/random.js';
import { sampleBatch } from './sampler.js';
import { augmentBatch, type AugmentOptions } from './augment.js';

/** Everything a batch depends on besides the step: plain data, sent to every worker. */
export interface BatchSpec {
  /** The preprocessed store. */
  dir: string;
  cases: StoredCase[];
  /** Patch read from the store, [z, y, x]; 2-D configurations read [1, y, x] with `squeeze2d`. */
  patch: number[];
  batchSize: number;
  /** The run's seed. */
  seed: number;
  /** 2-D: the slice axis of x [N, C, 1, y, x] and y [N, 1, y, x] is squeezed away. */
  squeeze2d?: boolean;
  /** Intensity augmentation only on the first imageChannels channels (default all); see augmentBatch. */
  imageChannels?: number;
  /** Spatial augmentation switches (rotation, mirror axes). */
  augment?: Omit<AugmentOptions, 'imageChannels'>;
  foregroundFraction?: number;
}

export interface LoaderOptions extends BatchSpec {
  /** Worker threads; 0 makes batches in the calling thread. Default: see defaultWorkers. */
  workers?: number;
  /** Batches requested ahead of the one being consumed (default 3). */
  prefetch?: number;
}

/** One batch as arrays: what a worker sends back. */
export interface BatchArrays {
  step: number;
  x: Float32Array;
  xShape: number[];
  y: BigInt64Array;
  yShape: number[];
}

/** 1 worker on up to 4 cores (the step needs them), then one per 4 cores, at most 4. */
export function defaultWorkers(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 4)));
}

/** The generator of one purpose ('sample', 'augment') at one global step of a run. */
export function stepRng(seed: number, step: number, purpose: string): Rng {
  return new Rng(hashSeed('medseg-batch', seed, step, purpose));
}

/** The batch of global step `step`: a pure function of the spec and the step. */
export function makeBatch(spec: BatchSpec, step: number): BatchArrays {
  return tidy(() => {
    const raw = sampleBatch(
      spec.dir,
      spec.cases,
      spec.patch,
      spec.batchSize,
      stepRng(spec.seed, step, 'sample'),
      spec.foregroundFraction,
    );
    const x0 = spec.squeeze2d ? raw.x.squeeze(2) : raw.x;
    const y0 = spec.squeeze2d ? raw.y.squeeze(1) : raw.y;
    const { x, y } = augmentBatch(x0, y0, stepRng(spec.seed, step, 'augment'), {
      ...spec.augment,
      imageChannels: spec.imageChannels,
    });
    return {
      step,
      x: x.toArray() as Float32Array,
      xShape: [...x.shape],
      y: y.toArray() as BigInt64Array,
      yShape: [...y.shape],
    };
  });
}

export function batchTensors(b: BatchArrays): { x: Tensor; y: Tensor } {
  return { x: Tensor.fromArray(b.x, b.xShape), y: Tensor.fromArray(b.y, b.yShape) };
}

/** Messages between the loader and its workers. */
export type ToWorker = { type: 'batch'; step: number } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready' }
  | ({ type: 'batch' } & BatchArrays)
  | { type: 'error'; step: number; message: string; stack?: string };

/** What a worker starts with: the spec, and a flag the loader sets when it stops (skip the queue). */
export interface WorkerInit {
  spec: BatchSpec;
  stop: Int32Array;
}

interface Pending {
  promise: Promise<BatchArrays>;
  resolve: (b: BatchArrays) => void;
  reject: (e: Error) => void;
  worker: number;
}

export class LoaderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoaderError';
  }
}

/** The process's Node options minus the entry script given as a string and its options
 * (`node --input-type=module -e ...` would make every worker fail to load its file). */
function workerExecArgv(): string[] {
  const withValue = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) i++;
    else if (!/^--(input-type|eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

/** How long a stopping worker may take to finish the batch it is making before it is terminated. */
const STOP_GRACE_MS = 30_000;

/**
 * Batches for consecutive global steps, made ahead in worker threads. `next(step)` resolves with
 * the batch of that step (the caller owns and disposes the tensors) and asks for the following
 * ones; asking for a step again or out of order is allowed (the batch is simply made again).
 * A failure in a worker rejects the waiting and every later `next` with one LoaderError and
 * stops the workers. `close()` stops them too; call it when training ends, however it ends.
 *
 * Workers are stopped by asking them (they finish the batch at hand, skip the queue and exit),
 * not with Worker.terminate(): terminating a thread in the middle of an engine call aborts the
 * process (the addon's error on the dying environment cannot be thrown). terminate() is only the
 * fallback for a worker that has not exited after STOP_GRACE_MS.
 */
export class BatchLoader {
  readonly workers: number;
  readonly prefetch: number;
  private readonly spec: BatchSpec;
  private readonly threads: Worker[] = [];
  private readonly exited: Promise<void>[] = [];
  private readonly outstanding: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly readyPromise: Promise<void>;
  private failure: LoaderError | undefined;
  private closed = false;
  private stopping = false;

  constructor(o: LoaderOptions) {
    const { workers, prefetch, ...spec } = o;
    this.spec = spec;
    this.workers = Math.max(0, Math.floor(workers ?? defaultWorkers()));
    this.prefetch = Math.max(1, Math.floor(prefetch ?? 3));
    if (this.workers === 0) {
      this.readyPromise = Promise.resolve();
      return;
    }
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.workers; i++) {
      let w: Worker;
      try {
        w = new Worker(new URL('./loaderWorker.js', import.meta.url), {
          workerData: { spec, stop: this.stopFlag } satisfies WorkerInit,
          execArgv: workerExecArgv(),
        });
      } catch (e) {
        this.stop();
        throw new LoaderError(`batch loader: cannot start worker ${i}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      this.threads.push(w);
      this.outstanding.push(0);
      this.exited.push(new Promise<void>((resolve) => w.once('exit', () => resolve())));
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: FromWorker) => {
            if (m.type !== 'ready') this.onMessage(i, m);
            else {
              // idle workers do not keep the process alive (a forgotten close() cannot hang an exit);
              // a stopping one does until it exits: close() awaits that exit
              if (this.outstanding[i] === 0 && !this.stopping) w.unref();
              resolve();
            }
          });
          w.on('error', (e) => reject(this.fail(`batch loader worker ${i} failed: ${e.message}`, e)));
          w.on('messageerror', (e) => reject(this.fail(`batch loader worker ${i}: bad message`, e)));
          w.on('exit', (code) => {
            if (!this.stopping) reject(this.fail(`batch loader worker ${i} exited (code ${code})`));
            else reject(this.failure ?? new LoaderError('batch loader closed'));
          });
        }),
      );
    }
    this.readyPromise = Promise.all(ready).then(() => undefined);
    this.readyPromise.catch(() => {});
  }

  /** Resolves when every worker has started (its modules and the engine loaded). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The batch of global step `step`; requests the next `prefetch` steps ahead. */
  async next(step: number): Promise<{ x: Tensor; y: Tensor }> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new LoaderError('batch loader: next() after close()');
    if (this.workers === 0) return batchTensors(makeBatch(this.spec, step));
    // forget batches outside the window (a repeated or earlier step): their results are dropped
    for (const [s, p] of this.pending) {
      if (s < step || s >= step + this.prefetch) {
        this.pending.delete(s);
        p.reject(new LoaderError(`batch of step ${s} no longer wanted`));
      }
    }
    for (let s = step; s < step + this.prefetch; s++) this.request(s);
    const p = this.pending.get(step)!;
    try {
      return batchTensors(await p.promise);
    } finally {
      if (this.pending.get(step) === p) this.pending.delete(step);
    }
  }

  /** Stops the workers and waits until they have exited; pending batches are dropped. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.rejectAll(new LoaderError('batch loader closed'));
      this.stop();
    }
    await Promise.all(this.exited);
  }

  private request(step: number): void {
    if (this.pending.has(step)) return;
    let worker = 0;
    for (let i = 1; i < this.threads.length; i++)
      if (this.outstanding[i]! < this.outstanding[worker]!) worker = i;
    let resolve!: (b: BatchArrays) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<BatchArrays>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // rejections of batches nobody awaits are not unhandled
    this.pending.set(step, { promise, resolve, reject, worker });
    this.outstanding[worker]!++;
    const w = this.threads[worker]!;
    w.ref();
    w.postMessage({ type: 'batch', step } satisfies ToWorker);
  }

  private onMessage(worker: number, m: FromWorker): void {
    if (m.type === 'ready') return;
    this.outstanding[worker]!--;
    if (this.outstanding[worker] === 0 && !this.stopping) this.threads[worker]!.unref();
    if (m.type === 'error') {
      const err = this.fail(
        `batch loader: the batch of step ${m.step} failed in worker ${worker}: ${m.message}`,
      );
      if (m.stack && err.message.includes(m.message))
        err.stack = `${err.name}: ${err.message}\n  worker stack: ${m.stack}`;
      return;
    }
    const p = this.pending.get(m.step);
    if (p && p.worker === worker) p.resolve(m);
  }

  /** Marks the loader failed (first failure wins), rejects everything waiting, stops the workers. */
  private fail(message: string, cause?: unknown): LoaderError {
    if (this.failure) return this.failure;
    if (this.stopping) return new LoaderError(message, { cause });
    this.failure = new LoaderError(message, { cause });
    this.rejectAll(this.failure);
    this.stop();
    return this.failure;
  }

  /** Asks every worker to stop (ref'd until it exits: its exit must keep the event loop alive). */
  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    Atomics.store(this.stopFlag, 0, 1);
    for (const w of this.threads) {
      w.ref();
      w.postMessage({ type: 'stop' } satisfies ToWorker);
      const t = setTimeout(() => void w.terminate(), STOP_GRACE_MS);
      t.unref();
      w.once('exit', () => clearTimeout(t));
    }
  }

  private rejectAll(e: LoaderError): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
