// Evaluation of segmentations: Dice, IoU, HD95, NSD, volume differences per label and region.
export { squaredEdt, distancesAt, type Dims, type Spacing } from './edt.js';
export {
  EvaluationInputError,
  encodeLabels,
  tabulate,
  type LabelVolume,
  type EncodedLabels,
  type LabelTable,
} from './labels.js';
export {
  DEFAULT_TOLERANCE_MM,
  METRIC_KEYS,
  bothEmptyMetrics,
  evaluateCase,
  evaluationTargets,
  maskMetrics,
  surfaceOf,
  type CaseMetrics,
  type CaseNames,
  type EvaluateOptions,
  type Metrics,
  type Region,
} from './metrics.js';
export {
  INFINITE_KEYS,
  completeKeys,
  meanMetrics,
  metricsCsv,
  type CaseResult,
  type MeanMetrics,
} from './summary.js';
export {
  evaluateFolders,
  reportJson,
  type EvaluationReport,
  type FolderEvaluationOptions,
} from './folders.js';
export { parseLabels, parseRegions } from './parse.js';
