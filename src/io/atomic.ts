// Writes land atomically: the content goes to a temporary file in the target's folder (same file
// system, so rename is atomic), which replaces the target only once it is complete. A write that
// fails (a full disk, a read-only folder) removes the temporary file and leaves the previous target
// untouched, and its error says so: a user who sees "no space left" must know whether last night's
// checkpoint survived.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** System error codes in words, for messages meant for users. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file stands where a folder is needed',
  EISDIR: 'a folder stands where the file is needed',
  ENOENT: 'the folder does not exist',
  EIO: 'input/output error',
  EFBIG: 'file too large for the file system',
  EMFILE: 'too many open files',
};

/** "ENOSPC: no space left on the device" (or the message of an error without a known code). */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && ERRNO_WORDS[err.code]) return `${err.code}: ${ERRNO_WORDS[err.code]}`;
  return err?.code ?? err?.message ?? String(e);
}

/** A failed atomic write: names the file, the cause, and whether a previous version was kept. */
export class AtomicWriteError extends Error {
  readonly file: string;
  readonly code: string | undefined;
  /** True when the target existed before the write and is still there, unchanged. */
  readonly previousIntact: boolean;
  constructor(file: string, cause: unknown, previousIntact: boolean) {
    super(
      `${file}: could not be written (${describeFsError(cause)}); ` +
        (previousIntact ? 'the previous file is intact' : 'no file was left there'),
      { cause },
    );
    this.name = 'AtomicWriteError';
    this.file = file;
    this.code = (cause as NodeJS.ErrnoException)?.code;
    this.previousIntact = previousIntact;
  }
}

const isSystemError = (e: unknown): e is NodeJS.ErrnoException =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';

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
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    // only system errors (they carry a syscall) are about the file; errors of the content itself
    // (a bad tensor, a bad header) pass through as they are
    if (!isSystemError(e)) throw e;
    throw new AtomicWriteError(target, e, fs.existsSync(target));
  }
}

/** Writes data to file atomically (creating the folder): readers see the old file or the whole new one. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  } catch (e) {
    throw new AtomicWriteError(file, e, fs.existsSync(file));
  }
  await atomicWrite(file, (tmp) => fs.promises.writeFile(tmp, data));
}
