// Hyper-parameter search and the job queue: spaces, samplers (random, TPE), ASHA pruning, the
// stores (memory, SQLite, PostgreSQL), workers, and the study / queue functions the CLI calls.
export * from './space.js';
export { RandomSampler, randomParams, type Sampler, type Observation } from './sampler.js';
export { TpeSampler, makeSampler, type TpeOptions } from './tpe.js';
export { ashaShouldStop, rungOf, type AshaOptions } from './asha.js';
export { TEST_FUNCTIONS, type TestFunction } from './functions.js';
export { medianRegret, runRegret } from './regret.js';
export { applyParams, trainOptionsOf, TrialPlanError } from './trialPlan.js';
export type { StudyConfig, TrainStudyConfig, FunctionStudyConfig } from './objective.js';
export { runWorker, type WorkerOptions, type WorkerResult } from './worker.js';
export {
  search,
  searchStatus,
  writeBestPlans,
  bestOf,
  type SearchOptions,
  type SearchResult,
  type TrialSummary,
} from './study.js';
export { queueFolds, queuePredict, type QueueFoldsOptions, type QueuePredictOptions } from './queue.js';
export { openStorage, defaultStorageUrl } from './storage/open.js';
export type * from './storage/types.js';
export { StorageError } from './storage/types.js';
