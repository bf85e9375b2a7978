export * from './gaussian.js';
export * from './slidingWindow.js';
