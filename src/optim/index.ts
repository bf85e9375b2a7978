export * from './optimizer.js';
export * from './sgd.js';
export * from './adamw.js';
export * from './schedule.js';
export * from './clip.js';
export * from './gradScaler.js';
