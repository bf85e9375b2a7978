// Knowledge transfer: fine-tuning from any model, and model packages.
export * from './finetune.js';
export * from './package.js';
export * from './open.js';
export * from './plans.js';
export * from './weights.js';
export { ArchiveError } from './tar.js';
export * from './shipped.js';
export * from './multitaskSource.js';
