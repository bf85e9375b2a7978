// Writes land atomically: the content goes to a temporary file in the target's folder (same file
// system, so rename is atomic), which replaces the target only once it is complete.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export async function atomicWrite(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await write(tmp);
    await fs.promises.rename(tmp, target);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Writes data to file atomically (creating the folder): readers see the old file or the whole new one. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await atomicWrite(file, (tmp) => fs.promises.writeFile(tmp, data));
}
