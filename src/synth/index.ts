// The synthetic decathlon: ten MSD-like tasks generated from a seed, in memory or as nnU-Net v2 datasets.
export type { SynthSize, SynthTask, GridSpec, SynthImages } from './task.js';
export { SYNTH_SIZES } from './task.js';
export { SYNTH_TASKS } from './tasks/index.js';
export { findTask, generateCase, caseId, datasetFolderName, type SynthCase } from './generate.js';
export {
  writeSynthDataset,
  writeSynthAll,
  DEFAULT_CASES,
  type SynthWriteOptions,
  type SynthWriteResult,
} from './write.js';
export { Rng, hashSeed } from '../common/random.js';
