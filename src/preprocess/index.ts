export * from '../grid/crop.js';
export * from './resample.js';
export * from './normalize.js';
export * from '../grid/volumeTensor.js';
export * from './preprocessCase.js';
export * from './store.js';
