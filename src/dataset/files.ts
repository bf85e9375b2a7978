// File-system steps of writing a dataset: refusing to clobber a folder, and atomic writes (a temporary
// name in the same folder, then rename) so that an interrupted run never leaves a half-written file
// under a final name.
import fs from 'node:fs';
import path from 'node:path';
import { atomicWrite, writeFileAtomic } from '../io/atomic.js';

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

export async function copyAtomic(src: string, dst: string): Promise<void> {
  await atomicWrite(dst, (tmp) => fs.promises.copyFile(src, tmp));
}

/** The entries a dataset writer owns in its output folder; overwriting removes only these. */
export const DATASET_ENTRIES = ['dataset.json', 'imagesTr', 'labelsTr', 'imagesTs'];

/**
 * Makes outDir ready for a dataset: refuses an existing non-empty folder unless `overwrite`, in which case
 * only the dataset entries are removed (anything else the user keeps there stays).
 */
export async function prepareOutDir(outDir: string, overwrite = false): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await fs.promises.readdir(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (entries.length > 0) {
    if (!overwrite)
      throw new Error(`${outDir} exists and is not empty (use --force to replace the dataset in it)`);
    for (const name of DATASET_ENTRIES)
      await fs.promises.rm(path.join(outDir, name), { recursive: true, force: true });
  }
  for (const sub of ['imagesTr', 'labelsTr'])
    await fs.promises.mkdir(path.join(outDir, sub), { recursive: true });
}
