// medseg's public library API: the pipeline functions at the top level, each stage as a namespace.
export * from './engine/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as dataset from './dataset/index.js';
export * as preprocess from './preprocess/index.js';
export * as planning from './plan/index.js';
export * as infer from './infer/index.js';
export * as postprocess from './postprocess/index.js';
export * as synth from './synth/index.js';
export * as report from './report/index.js';
export { plan } from './plan/run.js';
export { train, trainFolds } from './crossval/train.js';
export { trainModel, type TrainOptions, type TrainResult, type EpochLog } from './train/index.js';
export { predict, type PredictOptions, type PredictResult } from './infer/predict.js';
export { evaluateFolders as evaluate } from './evaluate/folders.js';
export { findBest, type FindBestOptions, type FindBestResult } from './evaluate/findBest.js';
export {
  writeSingleRunRecipe,
  recipeAfterBudgetedRun,
  type SingleRunRecipeOptions,
  type SingleRunRecipeResult,
} from './evaluate/singleRunRecipe.js';
export { writeReport } from './report/report.js';
export { runDemo } from './demo/pipeline.js';
export * as transfer from './transfer/index.js';
export { finetune, type FinetuneOptions } from './transfer/finetune.js';
export { packageModel, type PackageManifest } from './transfer/package.js';
export { openPackage, resolveModel } from './transfer/open.js';
export * as search from './search/index.js';
export * as web from './web/index.js';
export { exportModel, type ExportOptions, type ExportResult } from './export/exportModel.js';
export { readManifest, type ExportManifest } from './export/manifest.js';
export { predictOnnx, type OnnxPredictOptions, type OnnxPredictResult } from './deploy/predictOnnx.js';
export { importTfjs, type ImportTfjsOptions } from './importers/importTfjs.js';
export { MeshNet, type MeshNetSpec } from './nn/meshnet.js';
export { trainMulti, type TrainMultiOptions, type TrainMultiResult } from './multitask/train.js';
export { metaTrain, type MetaTrainOptions } from './multitask/meta.js';
export { taskModelDir } from './multitask/view.js';
export { checkTrainOptions, TrainOptionsError } from './train/checkOptions.js';
