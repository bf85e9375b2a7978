// Training with cross-validation: a fold is trained (src/train/) and then its validation cases are
// predicted with its own checkpoint (the out-of-fold predictions that find-best compares and that a
// cascade's second stage trains on); every fold of the split, one after the other.
import path from 'node:path';
import { trainFold, type TrainOptions, type TrainResult } from '../train/index.js';
import { readSplits } from '../train/splits.js';
import { predictValidation } from './validate.js';

/** Trains fold `o.fold` and, unless `validate: false`, predicts its validation cases. */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const { result, prepared, splits } = await trainFold(o);
  if (o.validate !== false && !result.stoppedEarly) {
    const log = o.log ?? (() => {});
    const config = prepared.configName;
    const fold = o.fold ?? 0;
    const { dataset, plans } = prepared;
    const summary = await predictValidation({
      dataset,
      modelDir: o.modelDir,
      plans,
      config,
      fold,
      splits,
      checkpoint: o.validationCheckpoint,
      device: o.device,
      log,
    });
    log(
      `${config} fold ${fold}: out-of-fold Dice ${summary.meanDice === null ? '-' : summary.meanDice.toFixed(3)} over ${summary.cases.length} validation case(s)`,
    );
  }
  return result;
}

/**
 * Every fold of the cross-validation, one after the other (resumable: with resume, finished folds
 * return at once and an interrupted one continues).
 */
export async function trainFolds(o: Omit<TrainOptions, 'fold'>): Promise<TrainResult[]> {
  const results = [await train({ ...o, fold: 0 })];
  const splits = await readSplits(path.join(o.modelDir, 'splits.json'));
  for (let f = 1; f < splits.length; f++) results.push(await train({ ...o, fold: f }));
  return results;
}
