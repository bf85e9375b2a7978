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
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { predict, type PredictOptions, type PredictResult } from './infer/predict.js';
export { evaluateFolders as evaluate } from './evaluate/folders.js';
export { findBest, type FindBestOptions, type FindBestResult } from './evaluate/findBest.js';
export { writeReport } from './report/report.js';
export { runDemo } from './demo/pipeline.js';
