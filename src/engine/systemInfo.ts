// What medseg computes with on this machine (`medseg info`): libtorch's version and build (CPU or
// CUDA, cuDNN), the visible GPUs, the CPU features that matter and the threads.
import os from 'node:os';
import { native } from './native.js';
import { deviceBuild, gpus, resolveDevice } from './device.js';
import { cpuFeatures, type CpuFeatures } from './cpu.js';

export interface SystemInfo {
  torch: {
    version: string;
    build: 'CPU' | 'CUDA';
    /** '12.4' */
    cudaRuntime: string | null;
    /** '9.1.0' */
    cudnn: string | null;
    mkldnn: boolean;
  };
  devices: {
    device: string;
    name: string | null;
    totalBytes: number | null;
    freeBytes: number | null;
    /** Compute capability, '9.0'. */
    capability: string | null;
  }[];
  /** What --device auto chooses here. */
  autoDevice: string;
  cpu: Omit<CpuFeatures, 'flags'>;
  /** medseg's commands use all available threads unless --threads says otherwise; `torch` is
   * libtorch's own default in this process. */
  threads: { medseg: number; torch: number; available: number; parallel: string };
}

/** CUDA runtime version integer (12040) as '12.4'. */
export function cudaVersionString(v: number | null): string | null {
  return v === null ? null : `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/** cuDNN version integer as 'major.minor.patch': 90100 → 9.1.0 (cuDNN 9), 8902 → 8.9.2 (cuDNN 8). */
export function cudnnVersionString(v: number | null): string | null {
  if (v === null) return null;
  if (v >= 10000) return `${Math.floor(v / 10000)}.${Math.floor((v % 10000) / 100)}.${v % 100}`;
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 100)}.${v % 100}`;
}

export function systemInfo(): SystemInfo {
  const info = native().info();
  const build = deviceBuild();
  const { flags: _flags, ...cpu } = cpuFeatures();
  return {
    torch: {
      version: info.torchVersion,
      build: build.cuda ? 'CUDA' : 'CPU',
      cudaRuntime: cudaVersionString(build.cudaRuntime),
      cudnn: cudnnVersionString(build.cudnn),
      mkldnn: info.mkldnn,
    },
    devices: gpus().map((g) => ({
      device: `cuda:${g.index}`,
      name: g.name,
      totalBytes: g.totalBytes,
      freeBytes: g.freeBytes,
      capability: g.major === null ? null : `${g.major}.${g.minor ?? 0}`,
    })),
    autoDevice: resolveDevice('auto'),
    cpu,
    threads: {
      medseg: os.availableParallelism(),
      torch: info.threads,
      available: os.availableParallelism(),
      parallel: info.parallelInfo,
    },
  };
}

const gib = (b: number | null) => (b === null ? '?' : `${(b / 2 ** 30).toFixed(1)} GiB`);

/** The report as text lines. */
export function formatSystemInfo(s: SystemInfo): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `libtorch ${s.torch.version}, ${s.torch.build} build` +
      (s.torch.build === 'CUDA'
        ? ` (CUDA ${s.torch.cudaRuntime ?? '?'}, cuDNN ${s.torch.cudnn ?? 'none'})`
        : '') +
      `, oneDNN ${yes(s.torch.mkldnn)}`,
    s.devices.length
      ? `GPUs: ${s.devices.map((d) => `${d.device} ${d.name ?? '?'} (${gib(d.totalBytes)}, ${gib(d.freeBytes)} free, sm ${d.capability ?? '?'})`).join('; ')}`
      : 'GPUs: none visible',
    `--device auto: ${s.autoDevice}`,
    `CPU: ${s.cpu.model}, ${s.cpu.logicalCores} logical cores; AVX2 ${yes(s.cpu.avx2)}, AVX-512 ${yes(s.cpu.avx512f)}, ` +
      `AVX512-BF16 ${yes(s.cpu.avx512bf16)}, AMX-BF16 ${yes(s.cpu.amxBf16)} (native bf16: ${yes(s.cpu.nativeBf16)})`,
    `threads: medseg uses ${s.threads.medseg} of ${s.threads.available} available (--threads N); libtorch's own default here ${s.threads.torch}`,
  ];
  return lines.join('\n');
}
