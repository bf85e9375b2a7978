// Devices: what the native engine was built against (CUDA, cuDNN), the GPUs it sees, choosing a
// device from what the user asked for ('auto' | 'cpu' | 'cuda' | 'cuda:N'), free device memory
// (for the sliding window's placement) and cuDNN's benchmark mode.
import { call } from './tensor.js';
import { native } from './native.js';

/** The native build's device facts (native/src/device.cc). */
export interface DeviceBuild {
  /** Linked against a CUDA libtorch. */
  cuda: boolean;
  /** Visible GPUs (0 on a CPU build). */
  gpus: number;
  /** CUDA runtime version as an integer (12040 = 12.4), null on a CPU build. */
  cudaRuntime: number | null;
  /** cuDNN version as an integer (90100 = 9.1.0), null when libtorch has no cuDNN. */
  cudnn: number | null;
  cudnnBenchmark: boolean;
  /** The CUDA runtime library was found in the process (device names and free memory readable). */
  runtimeFound: boolean;
}

export interface GpuInfo {
  index: number;
  name: string | null;
  totalBytes: number | null;
  freeBytes: number | null;
  /** Compute capability. */
  major: number | null;
  minor: number | null;
}

/** A device request that cannot be met: names the option and what is missing. */
export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

let buildCache: DeviceBuild | undefined;

export function deviceBuild(): DeviceBuild {
  return (buildCache ??= call('device_build') as DeviceBuild);
}

/** One visible GPU's name and memory (free memory read now), or null when it cannot be read. */
export function gpuInfo(index: number): GpuInfo | null {
  return call('cuda_device', index) as GpuInfo | null;
}

/** Every visible GPU (an empty list on a CPU build). */
export function gpus(): GpuInfo[] {
  const n = deviceBuild().gpus;
  return Array.from(
    { length: n },
    (_, i) =>
      gpuInfo(i) ?? { index: i, name: null, totalBytes: null, freeBytes: null, major: null, minor: null },
  );
}

/** The device string of a tensor or request: 'cuda' means 'cuda:0'. */
export function canonicalDevice(d: string): string {
  return d === 'cuda' ? 'cuda:0' : d;
}

export function isCuda(d: string | undefined): boolean {
  return !!d && d.startsWith('cuda');
}

/** The GPU index of 'cuda' / 'cuda:N' (0 for 'cuda'). */
export function cudaIndex(d: string): number {
  const m = /^cuda(?::(\d+))?$/.exec(d);
  if (!m) throw new DeviceError(`'${d}' is not a CUDA device`);
  return Number(m[1] ?? 0);
}

/** Facts resolveDevice decides from (injectable for tests of every branch). */
export interface DeviceFacts {
  cuda: boolean;
  gpus: number;
  torchVersion: string;
}

export function deviceFacts(): DeviceFacts {
  const b = deviceBuild();
  return { cuda: b.cuda, gpus: b.gpus, torchVersion: native().info().torchVersion };
}

/**
 * The device to run on for a request: 'auto' is the first GPU when the engine was built with CUDA
 * and a GPU is visible, else 'cpu'. An explicit CUDA request that cannot be met is one error that
 * says what is missing: the CUDA build, or a visible device. `option` names the option in messages.
 */
export function resolveDevice(
  request: string | undefined,
  option = '--device',
  facts: DeviceFacts = deviceFacts(),
): string {
  const r = (request ?? 'auto').trim().toLowerCase();
  if (r === 'cpu') return 'cpu';
  if (r === 'auto') return facts.cuda && facts.gpus > 0 ? 'cuda:0' : 'cpu';
  const m = /^cuda(?::(\d+))?$/.exec(r);
  if (!m) throw new DeviceError(`${option} must be auto, cpu, cuda or cuda:N, got '${request}'`);
  const index = Number(m[1] ?? 0);
  if (!facts.cuda) {
    throw new DeviceError(
      `${option} ${request}: the native engine was built against a CPU-only libtorch (${facts.torchVersion}); ` +
        `rebuild it against a CUDA libtorch (LIBTORCH=/path/to/libtorch-cuda, or a pip torch with CUDA visible to ` +
        `python3) with 'node scripts/build-native.mjs', or use --device cpu`,
    );
  }
  if (facts.gpus === 0) {
    throw new DeviceError(
      `${option} ${request}: the native engine has CUDA (libtorch ${facts.torchVersion}) but no GPU is visible ` +
        `(no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides them); use --device cpu`,
    );
  }
  if (index >= facts.gpus) {
    throw new DeviceError(
      `${option} ${request}: only ${facts.gpus} GPU(s) visible (cuda:0${facts.gpus > 1 ? `..cuda:${facts.gpus - 1}` : ''})`,
    );
  }
  return `cuda:${index}`;
}

/** Free and total bytes of a device's memory; null for the CPU or when they cannot be read. */
export function deviceMemory(device: string): { freeBytes: number; totalBytes: number } | null {
  if (!isCuda(device)) return null;
  const g = gpuInfo(cudaIndex(device));
  return g && g.freeBytes !== null && g.totalBytes !== null
    ? { freeBytes: g.freeBytes, totalBytes: g.totalBytes }
    : null;
}

/**
 * cuDNN's benchmark mode (torch.backends.cudnn.benchmark): the fastest convolution algorithm is
 * timed once per input shape and kept. Worth it when shapes repeat (fixed patch sizes); returns the
 * previous setting. Harmless on a CPU build.
 */
export function setCudnnBenchmark(on: boolean): boolean {
  return call('cudnn_benchmark', on) as boolean;
}

/** Turns cuDNN's benchmark mode on when `device` is a GPU (training and sliding windows: one patch size). */
export function useDevice(device: string): void {
  if (isCuda(device)) setCudnnBenchmark(true);
}
