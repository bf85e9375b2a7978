export * from './fingerprint.js';
export * from './topology.js';
export * from './planner.js';
export * from './run.js';
export * from './schema.js';
