// Checks made before training starts, so that a run does not fail after minutes of fingerprinting
// and preprocessing (or hours of epochs) on something known at the start.
import fs from 'node:fs';
import path from 'node:path';
import { describeFsError } from '../io/atomic.js';

/**
 * Throws one clear error when training could not write into `modelDir` (plans, preprocessed cases,
 * checkpoints, logs all go there): a read-only file system, a folder without write permission, a
 * file in the way. Creates the folder when it is missing. Probes with a real file rather than
 * access(W_OK), which says yes to root on a folder without write bits yet no on some network mounts.
 */
export async function assertWritableModelFolder(modelDir: string): Promise<void> {
  const refuse = (e: unknown, what: string) =>
    new Error(
      `${modelDir}: the model folder is not writable (${what}: ${describeFsError(e)}); ` +
        'training writes plans, preprocessed cases, checkpoints and logs there: make it writable or choose another folder',
      { cause: e },
    );
  try {
    await fs.promises.mkdir(modelDir, { recursive: true });
  } catch (e) {
    throw refuse(e, 'cannot create it');
  }
  const probe = path.join(modelDir, `.medseg-write-probe.${process.pid}`);
  try {
    await fs.promises.writeFile(probe, '');
  } catch (e) {
    throw refuse(e, 'cannot create a file in it');
  } finally {
    await fs.promises.rm(probe, { force: true }).catch(() => {});
  }
}
