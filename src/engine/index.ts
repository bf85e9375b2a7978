// The engine: tensors over libtorch, memory scopes, functional ops and runtime switches.
export { Tensor, EngineError, call } from './tensor.js';
export type { DType, Device, TypedArray } from './dtype.js';
export { isFloating, bytesPer } from './dtype.js';
export { tidy, keep } from './scope.js';
export * from './ops.js';
export * as F from './functional.js';
export * from './runtime.js';
export * from './device.js';
export * from './cpu.js';
export * from './systemInfo.js';
