// Fold F's out-of-fold predictions (see outOfFold.ts): its validation cases predicted by its own
// checkpoint, in each case's own geometry, with Dice against the reference. A cascade stage uses
// stage 1's out-of-fold prediction of the same case, as training did.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { tidy, type Tensor } from '../engine/index.js';
import { writeImage } from '../io/image.js';
import type { Dataset } from '../dataset/types.js';
import { readCaseVolumes } from '../dataset/volumes.js';
import type { Plans, ConfigurationName } from '../plan/planner.js';
import {
  predictedLabelValues,
  arraySpacing,
  channelsToTensor,
  labelsToTensor,
  labelsToVolume,
} from '../grid/volumeTensor.js';
import { scoredDice, scoredNames } from '../labelmap/regions.js';
import { nanMean } from '../common/stats.js';
import { loadConfigModel, disposeModel, predictProbabilities, cascadeProbabilities } from '../infer/model.js';
import type { Split } from '../train/splits.js';
import {
  validationDir,
  oofLabelFile,
  oofProbabilityFile,
  readOutOfFoldSummary,
  writeOutOfFoldSummary,
  writeProbabilities,
  readOutOfFoldClasses,
  type OutOfFoldSummary,
} from '../train/outOfFold.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

export interface ValidationOptions {
  dataset: Dataset;
  modelDir: string;
  plans: Plans;
  config: ConfigurationName;
  fold: number;
  splits: Split[];
  /** Which checkpoint predicts (default: the last epoch's, src/train/checkpointChoice.ts). */
  checkpoint?: CheckpointName;
  /** Where the network runs ('cpu' default, 'cuda:N'). */
  device?: string;
  log?: (s: string) => void;
}

/** Predicts fold `fold`'s validation cases (skipped when an up-to-date summary of the same
 * checkpoint exists). */
export async function predictValidation(o: ValidationOptions): Promise<OutOfFoldSummary> {
  const log = o.log ?? (() => {});
  const checkpoint = o.checkpoint ?? DEFAULT_CHECKPOINT;
  const existing = await readOutOfFoldSummary(o.modelDir, o.config, o.fold);
  if (existing?.checkpoint === checkpoint) return existing;
  const dir = validationDir(o.modelDir, o.config, o.fold);
  await mkdir(dir, { recursive: true });
  const ckptFile = path.join(o.modelDir, o.config, `fold_${o.fold}`, `checkpoint_${checkpoint}.safetensors`);
  const checkpointMtimeMs = (await stat(ckptFile)).mtimeMs;
  const model = await loadConfigModel(o.modelDir, o.plans, o.config, [o.fold], checkpoint, o.device);
  const cascade = model.config.cascade;
  const values = o.plans.labelValues;
  // each foreground label, or each region of a region-based plan (keyed by name)
  const scored = scoredNames(o.plans);
  const cases: OutOfFoldSummary['cases'] = [];
  try {
    const ids = o.splits[o.fold]!.val;
    for (const [i, id] of ids.entries()) {
      const c = o.dataset.training.find((t) => t.id === id);
      if (!c) throw new Error(`splits.json names case ${id}, which the dataset does not have`);
      const vols = await readCaseVolumes(c);
      const spacing = arraySpacing(vols.channels[0]!);
      const stage1 = cascade
        ? (await readOutOfFoldClasses(o.modelDir, cascade.previousStage, o.splits, id, values)).classes
        : null;
      const image = channelsToTensor(vols.channels);
      let probs: Tensor;
      try {
        probs = stage1
          ? cascadeProbabilities(model, image, spacing, stage1, { device: o.device })
          : predictProbabilities(model, image, spacing, { device: o.device });
      } finally {
        image.dispose();
        stage1?.dispose();
      }
      try {
        const labels = predictedLabelValues(probs, o.plans);
        const vol = labelsToVolume(labels, vols.channels[0]!);
        labels.dispose();
        await writeImage(oofLabelFile(dir, id), vol);
        await writeProbabilities(oofProbabilityFile(dir, id), probs, vols.channels[0]!);
        const dice: Record<string, number | null> = {};
        if (vols.label) {
          const ref = labelsToVolume(
            tidy(() => labelsToTensor(vols.label!, c.label!)),
            vols.label,
          ).data as Uint8Array | Int16Array;
          const d = scoredDice(vol.data as Uint8Array | Int16Array, ref, o.plans);
          scored.forEach((l, j) => (dice[l] = Number.isNaN(d[j]!) ? null : d[j]!));
        }
        cases.push({ id, dice });
        log(
          `${o.config} fold ${o.fold} validation ${i + 1}/${ids.length} ${id}: Dice ${Object.values(dice)
            .map((d) => (d === null ? '-' : d.toFixed(3)))
            .join(' ')}`,
        );
      } finally {
        probs.dispose();
      }
    }
  } finally {
    disposeModel(model);
  }
  const perLabel = scored.map((l) => nanMean(cases.map((c) => c.dice[l] ?? NaN)));
  const mean = nanMean(perLabel);
  const summary: OutOfFoldSummary = {
    config: o.config,
    fold: o.fold,
    checkpoint,
    checkpointMtimeMs,
    cases,
    meanDice: Number.isNaN(mean) ? null : mean,
  };
  await writeOutOfFoldSummary(o.modelDir, summary);
  return summary;
}
