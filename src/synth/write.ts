// Writes synthetic tasks as nnU-Net v2 datasets: <out>/Dataset009_Spleen/{dataset.json, imagesTr, labelsTr}.
// The dataset.json records generator, seed and size, so a dataset can be regenerated exactly.
import path from 'node:path';
import { prepareOutDir, writeJsonAtomic } from '../dataset/files.js';
import { parseNnunetLabels } from '../dataset/labels.js';
import { channelSuffix, nnunetDatasetJson } from '../dataset/nnunet.js';
import { writeImage } from '../io/image.js';
import { datasetFolderName, findTask, generateCase } from './generate.js';
import type { SynthSize, SynthTask } from './task.js';
import { SYNTH_TASKS } from './tasks/index.js';

// Fast gzip: synthetic noise barely compresses further at higher levels, and a realistic case would
// otherwise spend longer compressing than generating.
const WRITE = { level: 1 };

/** Cases per task when --cases is not given: enough for a 5-fold split at every size. */
export const DEFAULT_CASES: Record<SynthSize, number> = { tiny: 5, small: 10, realistic: 20 };

export interface SynthWriteOptions {
  seed?: number;
  size?: SynthSize;
  cases?: number;
  /** Replace an existing dataset folder (default: refuse a non-empty one). */
  overwrite?: boolean;
  onCase?: (task: SynthTask, id: string, seconds: number) => void;
}

export interface SynthWriteResult {
  task: string;
  dir: string;
  cases: number;
  seconds: number;
}

export async function writeSynthDataset(
  task: SynthTask | string,
  outRoot: string,
  opts: SynthWriteOptions = {},
): Promise<SynthWriteResult> {
  const t = typeof task === 'string' ? findTask(task) : task;
  const size = opts.size ?? 'tiny';
  const seed = opts.seed ?? 0;
  const cases = opts.cases ?? DEFAULT_CASES[size];
  if (!Number.isInteger(cases) || cases < 1)
    throw new Error(`cases must be a positive integer, got ${cases}`);
  const dir = path.resolve(outRoot, datasetFolderName(t));
  const start = performance.now();
  await prepareOutDir(dir, opts.overwrite);
  for (let i = 0; i < cases; i++) {
    const t0 = performance.now();
    const c = generateCase(t, i, { seed, size });
    for (const [k, vol] of c.channels.entries()) {
      await writeImage(path.join(dir, 'imagesTr', `${c.id}${channelSuffix(k)}.nii.gz`), vol, WRITE);
    }
    await writeImage(path.join(dir, 'labelsTr', `${c.id}.nii.gz`), c.label, WRITE);
    opts.onCase?.(t, c.id, (performance.now() - t0) / 1000);
  }
  const labels = parseNnunetLabels(t.labels, []);
  const json = nnunetDatasetJson(
    {
      name: t.name,
      description: t.description,
      channelNames: t.channelNames,
      labels,
      ...(t.regionClassOrder ? { regionClassOrder: t.regionClassOrder } : {}),
    },
    cases,
    '.nii.gz',
    {
      reference: 'medseg synthetic decathlon (not patient data)',
      licence: 'generated data, no restrictions',
      synthetic: { generator: 'medseg synth', task: t.key, msd_task: t.number, seed, size, cases },
    },
  );
  await writeJsonAtomic(path.join(dir, 'dataset.json'), json);
  return { task: t.key, dir, cases, seconds: (performance.now() - start) / 1000 };
}

/** All ten tasks, one after the other, under outRoot. */
export async function writeSynthAll(
  outRoot: string,
  opts: SynthWriteOptions = {},
): Promise<SynthWriteResult[]> {
  const out: SynthWriteResult[] = [];
  for (const t of SYNTH_TASKS) out.push(await writeSynthDataset(t, outRoot, opts));
  return out;
}
