// Out-of-fold predictions: after training fold F, the model predicts the cases it did not see (fold
// F's validation cases) in their own geometry. They are what the cascade's second stage trains on,
// what find-best compares configurations with and what post-processing is chosen from. Layout:
//   MODEL/<config>/fold_F/validation/<case>.nii.gz                 label map (label values)
//   MODEL/<config>/fold_F/validation/<case>_probabilities.nii.gz   4D uint8, probability = value/255
//   MODEL/<config>/fold_F/validation/summary.json                  written last: the folder is complete
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tensor, tidy } from '../engine/index.js';
import { readImage, writeImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ConfigurationName } from '../plan/planner.js';
import { labelsToTensor, toClassIndices } from '../grid/volumeTensor.js';
import type { Split } from './splits.js';
import type { CheckpointName } from './checkpointChoice.js';

export interface OutOfFoldSummary {
  config: ConfigurationName;
  fold: number;
  /** The checkpoint that made the predictions. */
  checkpoint: CheckpointName;
  /** mtime of the checkpoint the predictions were made with (stale when it changed). */
  checkpointMtimeMs: number;
  cases: { id: string; dice: Record<string, number | null> }[];
  /** Mean over foreground labels of the mean Dice over cases (NaN-free labels only). */
  meanDice: number | null;
}

export const validationDir = (modelDir: string, config: ConfigurationName, fold: number) =>
  path.join(modelDir, config, `fold_${fold}`, 'validation');

export const oofLabelFile = (dir: string, id: string) => path.join(dir, `${id}.nii.gz`);
export const oofProbabilityFile = (dir: string, id: string) => path.join(dir, `${id}_probabilities.nii.gz`);

/** The summary of a complete, up-to-date validation folder, else null. */
export async function readOutOfFoldSummary(
  modelDir: string,
  config: ConfigurationName,
  fold: number,
): Promise<OutOfFoldSummary | null> {
  const file = path.join(validationDir(modelDir, config, fold), 'summary.json');
  if (!existsSync(file)) return null;
  const s = JSON.parse(await readFile(file, 'utf8')) as OutOfFoldSummary;
  const ckpt = path.join(modelDir, config, `fold_${fold}`, `checkpoint_${s.checkpoint}.safetensors`);
  if (!existsSync(ckpt) || statSync(ckpt).mtimeMs !== s.checkpointMtimeMs) return null;
  return s;
}

export async function writeOutOfFoldSummary(modelDir: string, s: OutOfFoldSummary): Promise<void> {
  await writeFileAtomic(
    path.join(validationDir(modelDir, s.config, s.fold), 'summary.json'),
    JSON.stringify(s, null, 2),
  );
}

/** The fold whose validation set holds `id`. */
export function foldOfCase(splits: Split[], id: string): number {
  const f = splits.findIndex((s) => s.val.includes(id));
  if (f < 0) throw new Error(`case ${id} is in no fold's validation set (splits.json)`);
  return f;
}

/** Probabilities [K, z, y, x] in [0, 1] → a 4D uint8 volume (value/255) with the geometry of `like`. */
export function probabilityVolume(probs: Tensor, like: Volume): Volume {
  const data = tidy(
    () => probs.mul(255).round().clamp(0, 255).to('uint8').contiguous().toArray() as Uint8Array,
  );
  return {
    data,
    shape: [...like.shape.slice(0, 3), probs.shape[0]!],
    spacing: like.spacing,
    affine: like.affine.map((r) => [...r]),
    datatype: 'uint8',
    sclSlope: 1 / 255,
    sclInter: 0,
  };
}

export async function writeProbabilities(file: string, probs: Tensor, like: Volume): Promise<void> {
  await writeImage(file, probabilityVolume(probs, like));
}

/** Stored probabilities as raw uint8 [K, z, y, x] (value/255) and the class count. */
export async function readProbabilities(file: string): Promise<{ data: Uint8Array; classes: number }> {
  const v = await readImage(file);
  if (v.datatype !== 'uint8' || v.shape.length !== 4)
    throw new Error(`${file}: not a medseg probability volume (4D uint8)`);
  return { data: v.data as Uint8Array, classes: v.shape[3]! };
}

/** Stage 1's out-of-fold label map of a case as class indices [z, y, x] (int64). */
export async function readOutOfFoldClasses(
  modelDir: string,
  config: ConfigurationName,
  splits: Split[],
  id: string,
  labelValues: number[],
): Promise<{ classes: Tensor; file: string }> {
  const fold = foldOfCase(splits, id);
  const file = oofLabelFile(validationDir(modelDir, config, fold), id);
  if (!(await readOutOfFoldSummary(modelDir, config, fold)) || !existsSync(file)) {
    throw new Error(
      `${file}: ${config}'s out-of-fold prediction of ${id} is missing or stale; the cascade trains on them: ` +
        `train ${config} fold ${fold} first (medseg train DATASET --config ${config} --fold ${fold})`,
    );
  }
  const vol = await readImage(file);
  const classes = tidy(() => toClassIndices(labelsToTensor(vol, file), labelValues));
  return { classes, file };
}
