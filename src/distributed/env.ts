// The rank's place in a distributed run, from the environment torchrun (and `medseg train --nproc`,
// Slurm and Kubernetes launch scripts) set: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK.
// Absent variables mean a single-process run; half a set, or a value out of range, is one clear
// error naming the variable, before anything connects.

export interface RankEnv {
  /** The rendezvous store's host (rank 0 serves it). */
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** The rank's index on its own machine (which GPU it takes). */
  localRank: number;
  /** torchrun's agent already serves the store at MASTER_ADDR:MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE):
   * rank 0 connects to it instead of serving its own. */
  agentStore?: boolean;
}

const REQUIRED = ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, lo: number, hi: number): number {
  const raw = env[name]!.trim();
  const v = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < lo || v > hi)
    throw new Error(`${name}='${env[name]}' must be an integer from ${lo} to ${hi}`);
  return v;
}

/** The rank environment, or null when none of its variables is set (a single-process run). */
export function rankEnvFrom(env: NodeJS.ProcessEnv = process.env): RankEnv | null {
  const set = REQUIRED.filter((k) => env[k] !== undefined && env[k] !== '');
  if (set.length === 0) return null;
  if (set.length < REQUIRED.length) {
    const missing = REQUIRED.filter((k) => !set.includes(k));
    throw new Error(
      `distributed training needs ${REQUIRED.join(', ')} (as torchrun sets them): ${set.join(', ')} ` +
        `${set.length === 1 ? 'is' : 'are'} set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not`,
    );
  }
  const masterAddr = env.MASTER_ADDR!.trim();
  if (!/^[A-Za-z0-9.:_-]+$/.test(masterAddr))
    throw new Error(`MASTER_ADDR='${env.MASTER_ADDR}' is not a host name or an IP address`);
  const masterPort = integer(env, 'MASTER_PORT', 1, 65535);
  const worldSize = integer(env, 'WORLD_SIZE', 1, 65536);
  const rank = integer(env, 'RANK', 0, worldSize - 1);
  const localRank =
    env.LOCAL_RANK === undefined || env.LOCAL_RANK === '' ? 0 : integer(env, 'LOCAL_RANK', 0, worldSize - 1);
  const agentStore = env.TORCHELASTIC_USE_AGENT_STORE === 'True';
  return { masterAddr, masterPort, rank, worldSize, localRank, ...(agentStore ? { agentStore } : {}) };
}
