// Loads the native addon (native/build/Release/medseg_native.node) once, with one clear message
// when it has not been built.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The opaque handle of one libtorch tensor (see native/src/common.h). */
export interface NativeHandle {
  shape(): number[];
  dtype(): string;
  device(): string;
  dispose(): void;
  isDisposed(): boolean;
  toArray(): ArrayBufferView;
  dataView(): ArrayBufferView;
  item(): number | boolean;
}

/**
 * What every function of the addon (and every handle method) throws instead of aborting: a
 * TypeError for a missing argument or a wrong kind of value, a RangeError for a number outside
 * what the function takes (NaN, ±Infinity, a fraction or a number beyond 2^53 where an integer is
 * read), an Error for anything libtorch refuses. The message reads "op(inputs described): what".
 */
export interface NativeError extends Error {
  /** the function, op or method that failed */
  op: string;
  engine: true;
}

export interface NativeAddon {
  call(op: string, ...args: unknown[]): unknown;
  opNames(): string[];
  fromArray(data: ArrayBufferView, shape: number[], dtype: string, device?: string): NativeHandle;
  info(): {
    torchVersion: string;
    cudaAvailable: boolean;
    cudaDevices: number;
    mkldnn: boolean;
    threads: number;
    parallelInfo: string;
  };
  /** An integer from 1 to 1024. */
  setThreads(n: number): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  /** Any safe integer (|seed| < 2^53); a negative seed wraps to uint64 as in PyTorch. */
  manualSeed(seed: number): void;
  getRngState(): NativeHandle;
  setRngState(state: NativeHandle): void;
  setAutocast(dtype: string): string;
  cudaSynchronize(): void;
  /** The caching CPU allocator: bytes cached for reuse, and fresh blocks mapped so far. */
  memoryStats(): { cachedBytes: number; maps: number };
  /** Returns every cached block to the OS. */
  emptyCache(): void;
  /** A whole number of bytes, 0 to 2^53 - 1. */
  setCacheLimit(bytes: number): void;
  /** libtorch's op profiler; stopProfile writes a Chrome trace to the file given here (checked writable now). */
  startProfile(file: string): void;
  stopProfile(): void;
  TensorHandle: new () => NativeHandle;
}

function packageRoot(): string {
  // dist/src/engine/native.js → package root is three levels up
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('medseg: cannot locate the package root (no package.json beside native/)');
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const file =
    process.env.MEDSEG_NATIVE ?? path.join(packageRoot(), 'native', 'build', 'Release', 'medseg_native.node');
  if (!existsSync(file)) {
    throw new Error(
      `medseg: the native engine is not built (${file} is missing). Run 'bash scripts/setup.sh' ` +
        `(installs libtorch-dev when no libtorch is found) or 'npm install' with LIBTORCH=/path/to/libtorch.`,
    );
  }
  addon = createRequire(import.meta.url)(file) as NativeAddon;
  return addon;
}
