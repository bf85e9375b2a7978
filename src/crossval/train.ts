// Training with cross-validation: a fold is trained (src/train/) and then its validation cases are
// predicted with its own checkpoint (the out-of-fold predictions that find-best compares and that a
// cascade's second stage trains on); every fold of the split, one after the other.
import path from 'node:path';
import { trainFold, type TrainOptions, type TrainResult } from '../train/index.js';
import { readSplits } from '../train/splits.js';
import { predictValidation } from './validate.js';
import { writeSingleRunRecipe } from '../evaluate/singleRunRecipe.js';

/**
 * Trains fold `o.fold` and, unless `validate: false`, predicts its validation cases. A budgeted run
 * (a wall-clock budget, or a plan made for one) then writes the inference recipe with the
 * post-processing it can afford without cross-validation (src/evaluate/singleRunRecipe.ts).
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const { result, prepared, splits } = await trainFold(o);
  const log = o.log ?? (() => {});
  const config = prepared.configName;
  const fold = o.fold ?? 0;
  if (o.validate !== false && !result.stoppedEarly) {
    const { dataset, plans } = prepared;
    const summary = await predictValidation({
      dataset,
      modelDir: o.modelDir,
      plans,
      config,
      fold,
      splits,
      device: o.device,
      log,
    });
    log(
      `${config} fold ${fold}: out-of-fold Dice ${summary.meanDice === null ? '-' : summary.meanDice.toFixed(3)} over ${summary.cases.length} validation case(s)`,
    );
  }
  const budgeted = o.budgetSeconds !== undefined || !!prepared.plans.configurations[config]?.budget;
  if (budgeted && !result.stoppedEarly) {
    try {
      await writeSingleRunRecipe({ dataset: prepared.dataset, modelDir: o.modelDir, config, fold, log });
    } catch (e) {
      // the checkpoints are saved: a recipe that cannot be chosen leaves predict without post-processing
      log(`warning: no inference recipe written (post-processing not chosen): ${(e as Error).message}`);
    }
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
