// Real file-system faults for tests: a tiny tmpfs (a full disk: ENOSPC) or a read-only one (EROFS),
// mounted for one test and unmounted after it. Needs root (CI containers run as root); otherwise
// the caller skips its test with the reason returned.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** A folder with a fresh tmpfs of `sizeKb` mounted on it, or a string saying why there is none. */
export function mountTmpfs(t: TestContext, sizeKb: number, readOnly = false): { dir: string } | string {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k${readOnly ? ',ro' : ''}`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`;
  }
  t.after(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir };
}
