// The checkpoint an inference recipe names: the one that made the out-of-fold predictions the recipe
// was chosen on (the configuration and post-processing were judged on that checkpoint's output).
// Folds predicted with different checkpoints — a folder validated before the default became the
// last epoch, then partly trained again — are not one model: say which, and how to make them agree.
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';
import type { ConfigurationName } from '../plan/planner.js';

export interface ValidatedFold {
  config: ConfigurationName;
  fold: number;
  checkpoint: CheckpointName;
}

/** The one checkpoint of `folds` (the default when there are none); an error naming them when mixed. */
export function validatedCheckpoint(modelDir: string, folds: ValidatedFold[]): CheckpointName {
  const used = [...new Set(folds.map((f) => f.checkpoint))];
  if (used.length <= 1) return used[0] ?? DEFAULT_CHECKPOINT;
  const list = (c: CheckpointName) =>
    folds
      .filter((f) => f.checkpoint === c)
      .map((f) => `${f.config} fold ${f.fold}`)
      .join(', ');
  throw new Error(
    `${modelDir}: the out-of-fold predictions were made with different checkpoints ` +
      `(checkpoint_best: ${list('best')}; checkpoint_latest: ${list('latest')}), so no one ` +
      `recipe fits them: predict them again with one (medseg train DATASET --model ${modelDir} ` +
      `--config C --fold F --resume predicts a finished fold's validation cases with checkpoint_latest; ` +
      `add --validation-checkpoint best for checkpoint_best)`,
  );
}
