// Training one fold: the run (run.ts), one step (step.ts), the epoch loop (epochs.ts), the
// per-epoch validation (pseudoDice.ts), budget fitting (budget.ts), composed in trainer.ts.
export * from './types.js';
export { trainModel, trainFold, runStep } from './trainer.js';
export { openRun, runFiles, makeOptimizer, type TrainRun, type RunFiles } from './run.js';
export { trainOnBatch, makeTrainStep, type Batch, type StepParts } from './step.js';
export { runEpochs, type EpochLoop } from './epochs.js';
export { pseudoDice, validationBatches, disposeBatches, type ValidationBatch } from './pseudoDice.js';
export { fitEpochs, refitEpochs, type EpochPlan } from './budget.js';
export {
  checkTrainOptions,
  trainOptionProblems,
  TrainOptionsError,
  TRAIN_OPTION_RANGES,
} from './checkOptions.js';
export * from './recipe.js';
