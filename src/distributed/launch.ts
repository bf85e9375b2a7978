// `--nproc N`: N local ranks as child processes of this one, each the same command with torchrun's
// variables set (MASTER_ADDR=127.0.0.1, a free MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK). Rank 0
// shares this terminal; the others' standard output is dropped and their standard error (errors
// only: they log nothing) is passed on with a "[rank r]" prefix. When one rank fails, the others are
// stopped at once (SIGTERM, then SIGKILL) instead of waiting out their collective's timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

export interface LaunchOptions {
  nproc: number;
  /** The node script and its arguments each rank runs. */
  script: string;
  args: readonly string[];
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** Where the launcher's own messages go (warnings, which rank failed). */
  log?: (s: string) => void;
  /** Grace after SIGTERM before SIGKILL (ms, default 5000). */
  killGraceMs?: number;
}

/** A TCP port free on loopback now (the OS picks it; rank 0 binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The warning for more ranks than cores, or null. */
export function oversubscription(nproc: number, cores = availableParallelism()): string | null {
  return nproc > cores
    ? `warning: --nproc ${nproc} is more than this machine's ${cores} core(s): the ranks will share them and run slower than fewer would`
    : null;
}

/**
 * Runs the ranks to the end. Resolves 0 when all succeeded, else the exit code of the first that
 * failed (after stopping the rest).
 */
export async function launchLocalRanks(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  if (!Number.isInteger(o.nproc) || o.nproc < 1)
    throw new Error(`--nproc must be a positive integer, not ${o.nproc}`);
  const warning = oversubscription(o.nproc);
  if (warning) log(warning);
  const port = await freePort();
  const children: ChildProcess[] = [];
  return new Promise<number>((resolve) => {
    let failed: number | null = null;
    let running = o.nproc;
    const stopOthers = (): void => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      const t = setTimeout(() => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, o.killGraceMs ?? 5000);
      t.unref();
    };
    for (let rank = 0; rank < o.nproc; rank++) {
      const child = spawn(process.execPath, [...process.execArgv, o.script, ...o.args], {
        env: {
          ...process.env,
          ...o.env,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          RANK: String(rank),
          WORLD_SIZE: String(o.nproc),
          LOCAL_RANK: String(rank),
        },
        stdio: rank === 0 ? 'inherit' : ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.setEncoding('utf8');
      let pending = '';
      child.stderr?.on('data', (s: string) => {
        const lines = (pending + s).split('\n');
        pending = lines.pop()!;
        for (const line of lines) process.stderr.write(`[rank ${rank}] ${line}\n`);
      });
      child.on('close', (code, signal) => {
        if (pending) process.stderr.write(`[rank ${rank}] ${pending}\n`);
        running--;
        if ((code !== 0 || signal) && failed === null) {
          failed = code && code !== 0 ? code : 1;
          log(
            `rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: stopping the other ranks`,
          );
          stopOthers();
        }
        if (running === 0) resolve(failed ?? 0);
      });
      children.push(child);
    }
  });
}
