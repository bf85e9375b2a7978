// A process group over libtorch's c10d (native/src/distributed.cc): a TCPStore rendezvous served by
// rank 0 and a Gloo (CPU) or NCCL (CUDA builds) group. Every collective blocks until all ranks took
// part; a peer that died or a timeout is an Error naming the store's host:port, never a hang.
import { native } from '../engine/native.js';
import { Tensor } from '../engine/index.js';
import { rankEnvFrom, type RankEnv } from './env.js';

export type Backend = 'gloo' | 'nccl';

/** The addon's c10d functions (absent from an addon built without them: distGroup explains). */
interface DistAddon {
  distBackends(): { gloo: boolean; nccl: boolean };
  distGroup(
    backend: Backend,
    host: string,
    port: number,
    rank: number,
    world: number,
    timeoutMs: number,
    serve?: boolean,
  ): unknown;
  distAllReduceSum(g: unknown, t: unknown): void;
  distBroadcast(g: unknown, t: unknown, root: number): void;
  distBarrier(g: unknown): void;
  distStoreSet(g: unknown, key: string, value: string): void;
  distStoreWait(g: unknown, key: string, timeoutMs: number): string;
  distDestroy(g: unknown): void;
}

const addon = (): DistAddon => native() as unknown as DistAddon;

/** Which backends this build of the addon can make. */
export function distributedBackends(): { gloo: boolean; nccl: boolean } {
  return addon().distBackends();
}

export interface GroupOptions {
  /** 'gloo' (default) or 'nccl' (CUDA builds with NCCL). */
  backend?: Backend;
  /** Rendezvous and every collective: how long a rank waits for the others (default 300 s). */
  timeoutSeconds?: number;
}

/** Joins the group torchrun's variables describe (env.ts), or null when they are not set. */
export function joinFromEnv(o: GroupOptions = {}, env: NodeJS.ProcessEnv = process.env): ProcessGroup | null {
  const r = rankEnvFrom(env);
  return r ? ProcessGroup.join(r, o) : null;
}

export class ProcessGroup {
  private handle: unknown;
  readonly timeoutMs: number;

  private constructor(
    readonly env: RankEnv,
    readonly backend: Backend,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
  }

  /** Joins (rank 0: opens) the group described by env; blocks until every rank has joined. */
  static join(env: RankEnv, o: GroupOptions = {}): ProcessGroup {
    const backend = o.backend ?? 'gloo';
    const timeoutMs = Math.round((o.timeoutSeconds ?? 300) * 1000);
    const g = new ProcessGroup(env, backend, timeoutMs);
    g.handle = addon().distGroup(
      backend,
      env.masterAddr,
      env.masterPort,
      env.rank,
      env.worldSize,
      timeoutMs,
      !env.agentStore,
    );
    return g;
  }

  get rank(): number {
    return this.env.rank;
  }
  get worldSize(): number {
    return this.env.worldSize;
  }

  private live(): unknown {
    if (this.handle === undefined) throw new Error('the process group was closed');
    return this.handle;
  }

  /** t (contiguous) becomes the sum of every rank's t, in place. */
  allReduceSum(t: Tensor): void {
    addon().distAllReduceSum(this.live(), t.handle);
  }

  /** Every rank's t (contiguous) becomes root's, in place. */
  broadcast(t: Tensor, root = 0): void {
    addon().distBroadcast(this.live(), t.handle, root);
  }

  /** Root's values on every rank (small decisions every rank must share: epoch counts, stopping). */
  agree(values: readonly number[], root = 0): number[] {
    const t = Tensor.fromArray(new Float64Array(values), [values.length], 'float64');
    try {
      this.broadcast(t, root);
      return Array.from(t.toArray() as Float64Array);
    } finally {
      t.dispose();
    }
  }

  barrier(): void {
    addon().distBarrier(this.live());
  }

  /** Publishes key=value in the rendezvous store. */
  set(key: string, value: string): void {
    addon().distStoreSet(this.live(), key, value);
  }

  /** The value of key, once some rank has set it (an Error after timeoutSeconds). */
  wait(key: string, timeoutSeconds = this.timeoutMs / 1000): string {
    return addon().distStoreWait(this.live(), key, Math.max(1, Math.round(timeoutSeconds * 1000)));
  }

  /** Leaves the group (idempotent). */
  close(): void {
    if (this.handle === undefined) return;
    addon().distDestroy(this.handle);
    this.handle = undefined;
  }
}
