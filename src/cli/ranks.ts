// The data-parallel side of `medseg train`: --nproc N launches N local ranks (this CLI again, with
// torchrun's variables set); a process started with those variables (by --nproc, torchrun, srun or
// a Kubernetes indexed Job) joins the group as one rank.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './command.js';
import { parseInteger } from './args.js';
import { parseDuration } from './duration.js';
import { rankEnvFrom, type RankEnv } from '../distributed/env.js';
import type { DataParallel } from '../train/types.js';

export const RANK_ARGS = {
  nproc: { type: 'string' },
  'dist-timeout': { type: 'string' },
} as const;

export const RANK_HELP = `--nproc N: data-parallel training over N local processes (Gloo on loopback; gradients averaged
every step, each rank samples its own batches, rank 0 logs and writes the checkpoints; the batch
per step is N × the plan's). Started by torchrun, srun or an indexed Job instead (MASTER_ADDR,
MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK set), each process is one rank (NCCL on CUDA builds
with NCCL). --dist-timeout 5m: how long a rank waits for the others (default 5m) before failing.`;

/** The medseg CLI entry (bin/medseg) of this installation: what each local rank runs. */
function cliEntry(): string {
  // dist/src/cli/ranks.js → bin/medseg
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/medseg');
}

export type RankPlan =
  | { kind: 'single' }
  | { kind: 'launch'; nproc: number }
  | { kind: 'rank'; env: RankEnv; timeoutSeconds: number };

/** What this process is: a plain run, the launcher of --nproc ranks, or one rank. */
export function rankPlan(values: { nproc?: string; 'dist-timeout'?: string }, env = process.env): RankPlan {
  const nproc = parseInteger(values.nproc, 'nproc', { min: 1, max: 1024 });
  const timeoutSeconds =
    values['dist-timeout'] === undefined ? 300 : parseDuration(values['dist-timeout'], 'dist-timeout');
  let rankEnv: RankEnv | null;
  try {
    rankEnv = rankEnvFrom(env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (rankEnv) {
    if (nproc !== undefined && nproc !== rankEnv.worldSize)
      throw new UsageError(
        `--nproc ${nproc} disagrees with WORLD_SIZE=${rankEnv.worldSize} of the environment`,
      );
    return { kind: 'rank', env: rankEnv, timeoutSeconds };
  }
  return nproc !== undefined && nproc > 1 ? { kind: 'launch', nproc } : { kind: 'single' };
}

/** Runs `medseg train ARGV` as N local ranks; resolves to the exit code. */
export async function launchTrainRanks(nproc: number, argv: string[]): Promise<number> {
  const { launchLocalRanks } = await import('../distributed/launch.js');
  return launchLocalRanks({ nproc, script: cliEntry(), args: ['train', ...argv] });
}

/** Joins the group of this rank (blocks until every rank has). CUDA ranks take GPU LOCAL_RANK. */
export async function joinRank(
  plan: Extract<RankPlan, { kind: 'rank' }>,
  device: string,
): Promise<{ distributed: DataParallel; device: string }> {
  const { ProcessGroup, distributedBackends } = await import('../distributed/group.js');
  const cuda = device.startsWith('cuda');
  const backend = cuda && distributedBackends().nccl ? 'nccl' : 'gloo';
  const group = ProcessGroup.join(plan.env, { backend, timeoutSeconds: plan.timeoutSeconds });
  return { distributed: { group }, device: cuda ? `cuda:${plan.env.localRank}` : device };
}
