// Runs the real `medseg` executable (bin/medseg over dist/) in a child process: exit code and output,
// as a user sees them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/medseg of this checkout (tests run from dist/test/cli/). */
export const MEDSEG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/medseg');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function medseg(args: string[], timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [MEDSEG, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
