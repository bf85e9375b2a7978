export * from './trainStep.js';
export * from './slidingWindow.js';
export * from './memory.js';
