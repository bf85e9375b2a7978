// Process-wide engine switches: threads, gradient mode, random seeds, autocast, device info.
import os from 'node:os';
import { native } from './native.js';
import { call, Tensor } from './tensor.js';

export function engineInfo() {
  return native().info();
}

/** Intra-op threads of libtorch; default: the machine's available parallelism. */
export function setThreads(n: number = os.availableParallelism()): void {
  native().setThreads(Math.max(1, Math.floor(n)));
}

/** Seeds libtorch's global generator (all random tensors). */
export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

/** The CPU generator state, to save with a checkpoint and restore for exact resumption. */
export function getRngState(): Tensor {
  return new Tensor(native().getRngState());
}
export function setRngState(state: Tensor): void {
  native().setRngState(state.handle);
}

/** Runs fn without recording autograd history. */
export function noGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(false);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

export function enableGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(true);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

export type AutocastDType = 'bfloat16' | 'float16';

/**
 * Runs fn with convolutions and matmuls computed in a lower precision (weights stay float32 and
 * receive float32 gradients). bfloat16 on CPU uses oneDNN's AVX512-BF16/AMX kernels where present.
 */
export function autocast<T>(dtype: AutocastDType | null, fn: () => T): T {
  if (!dtype) return fn();
  const prev = native().setAutocast(dtype);
  try {
    return fn();
  } finally {
    native().setAutocast(prev);
  }
}

export function cudaAvailable(): boolean {
  return native().info().cudaAvailable;
}

/** Waits for queued CUDA work (timing); a no-op on CPU. */
export function synchronize(): void {
  native().cudaSynchronize();
}

/** Gradients of outputs w.r.t. inputs without touching .grad (null where an input is unused). */
export function grad(outputs: Tensor[], inputs: Tensor[], gradOutputs?: Tensor[]): (Tensor | null)[] {
  return call('autograd_grad', outputs, inputs, gradOutputs ?? null) as (Tensor | null)[];
}
