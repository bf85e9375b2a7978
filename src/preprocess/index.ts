export * from './crop.js';
export * from './resample.js';
export * from './normalize.js';
