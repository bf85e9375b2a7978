export * from './gaussian.js';
export * from './slidingWindow.js';
export * from './inputs.js';
export * from './predict.js';
