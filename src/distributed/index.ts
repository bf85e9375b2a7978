// Data-parallel training over libtorch's c10d: the rank environment, the process group, bucketed
// gradient averaging, per-rank seeds and the local launcher of `medseg train --nproc N`.
export * from './env.js';
export * from './group.js';
export * from './buckets.js';
export * from './seed.js';
export * from './launch.js';
