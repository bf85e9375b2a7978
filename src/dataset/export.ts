// Writing any Dataset as an nnU-Net v2 dataset (imagesTr/CASE_XXXX.nii.gz per channel, labelsTr/CASE.nii.gz,
// dataset.json), and the MSD → nnU-Net v2 conversion built on it. Files already in the target format are
// copied byte for byte; 4D images are split into one file per channel.
import fs from 'node:fs';
import path from 'node:path';
import { readImage, writeImage } from '../io/image.js';
import { copyAtomic, prepareOutDir, writeJsonAtomic } from './files.js';
import { channelSuffix, nnunetDatasetJson } from './nnunet.js';
import { fileEnding } from './paths.js';
import { DatasetError, readDataset } from './read.js';
import type { Dataset, DatasetCase, DatasetIssue } from './types.js';
import { readCaseVolumes } from './volumes.js';

export interface WriteDatasetOptions {
  /** Replace the dataset in a non-empty outDir (default: refuse). */
  overwrite?: boolean;
  name?: string;
  description?: string;
  /** Extra dataset.json keys (provenance). */
  extra?: Record<string, unknown>;
  onCase?: (id: string, done: number, total: number) => void;
}

export interface WriteDatasetResult {
  dir: string;
  training: number;
  test: number;
  /** Cases left out because their files were incomplete, as the reader described them. */
  skipped: DatasetIssue[];
}

const ENDING = '.nii.gz';

async function writeCase(c: DatasetCase, dir: string, label: string | undefined): Promise<void> {
  const direct = c.channels.every((ch) => ch.index === undefined && fileEnding(ch.path) === ENDING);
  if (direct) {
    for (const [k, ch] of c.channels.entries())
      await copyAtomic(ch.path, path.join(dir, `${c.id}${channelSuffix(k)}${ENDING}`));
  } else {
    const { channels } = await readCaseVolumes({ id: c.id, channels: c.channels });
    for (const [k, vol] of channels.entries())
      await writeImage(path.join(dir, `${c.id}${channelSuffix(k)}${ENDING}`), vol);
  }
  if (c.label && label) {
    if (fileEnding(c.label) === ENDING) await copyAtomic(c.label, label);
    else await writeImage(label, await readImage(c.label));
  }
}

/** Writes `ds` to outDir as nnU-Net v2. Incomplete cases (already left out by the reader) are listed in `skipped`. */
export async function writeNnunetDataset(
  ds: Dataset,
  outDir: string,
  opts: WriteDatasetOptions = {},
): Promise<WriteDatasetResult> {
  const fatal = ds.issues.filter((i) => i.severity === 'error' && i.caseId === undefined);
  if (fatal.length > 0)
    throw new DatasetError(`cannot convert ${ds.root}:\n  ${fatal.map((i) => i.message).join('\n  ')}`);
  const dir = path.resolve(outDir);
  // Overwriting removes imagesTr/ and labelsTr/, which must never be the source's own.
  if (dir === ds.root) throw new DatasetError(`the output folder is the dataset itself (${dir})`);
  await prepareOutDir(dir, opts.overwrite);
  if (ds.test.length > 0) await fs.promises.mkdir(path.join(dir, 'imagesTs'), { recursive: true });
  const total = ds.training.length + ds.test.length;
  let done = 0;
  for (const c of ds.training) {
    await writeCase(c, path.join(dir, 'imagesTr'), path.join(dir, 'labelsTr', `${c.id}${ENDING}`));
    opts.onCase?.(c.id, ++done, total);
  }
  for (const c of ds.test) {
    await writeCase(c, path.join(dir, 'imagesTs'), undefined);
    opts.onCase?.(c.id, ++done, total);
  }
  const json = nnunetDatasetJson(
    { ...ds, name: opts.name ?? ds.name, description: opts.description ?? ds.description },
    ds.training.length,
    ENDING,
    opts.extra,
  );
  // Written last: a folder without dataset.json is visibly unfinished.
  await writeJsonAtomic(path.join(dir, 'dataset.json'), json);
  return {
    dir,
    training: ds.training.length,
    test: ds.test.length,
    skipped: ds.issues.filter((i) => i.caseId !== undefined && i.severity === 'error'),
  };
}

/** MSD task folder → nnU-Net v2 dataset: 4D images split into _0000, _0001, … channel files. */
export async function convertMsdToNnunet(
  msdDir: string,
  outDir: string,
  opts: WriteDatasetOptions = {},
): Promise<WriteDatasetResult> {
  const ds = await readDataset(msdDir);
  if (ds.layout !== 'msd')
    throw new DatasetError(`${ds.root} is not an MSD task folder (its dataset.json is ${ds.layout})`);
  return writeNnunetDataset(ds, outDir, {
    ...opts,
    extra: { converted_from: 'MSD', ...(opts.extra ?? {}) },
  });
}
