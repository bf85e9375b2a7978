// Datasets: reading MSD / nnU-Net v2 / pattern layouts into one description, checking, converting.
export type { ChannelFile, Dataset, DatasetCase, DatasetIssue, DatasetLayout, LabelClass } from './types.js';
export { readDataset, detectLayout, DatasetError } from './read.js';
export { parseMsdDatasetJson } from './msd.js';
export { parseNnunetDatasetJson, nnunetDatasetJson, channelSuffix, type FolderView } from './nnunet.js';
export { compilePattern, matchPattern, walkFiles, type PatternSpec } from './pattern.js';
export { datasetFromPattern } from './from-pattern.js';
export {
  checkDataset,
  assertDatasetValid,
  DatasetInvalidError,
  type CheckOptions,
  type CheckResult,
  type CaseReport,
} from './check.js';
export {
  convertMsdToNnunet,
  writeNnunetDataset,
  type WriteDatasetOptions,
  type WriteDatasetResult,
} from './export.js';
export { readCaseVolumes, channelOf, type CaseVolumes } from './volumes.js';
export { affineMismatch, defaultTolerance, type GeometryTolerance } from './geometry.js';
