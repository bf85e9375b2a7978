export * from './crop.js';
export * from './resample.js';
export * from './normalize.js';
export * from './volumeTensor.js';
export * from './preprocessCase.js';
export * from './store.js';
