// The CPU's model and the instruction-set features that decide medseg's speed: AVX2 and AVX-512
// (oneDNN's float32 kernels), AVX512-BF16 and AMX (native bfloat16: --bf16 is fast only with them).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuFeatures {
  model: string;
  logicalCores: number;
  avx2: boolean;
  avx512f: boolean;
  avx512bf16: boolean;
  /** Intel AMX tiles with bfloat16 (Sapphire Rapids and later). */
  amxBf16: boolean;
  /** bfloat16 runs natively (AVX512-BF16 or AMX-BF16), not emulated in float32. */
  nativeBf16: boolean;
  /** Every flag the kernel reports, for whoever needs another one. */
  flags: string[];
}

/** Parses /proc/cpuinfo text (the first processor's model and flags). */
export function parseCpuInfo(text: string, logicalCores = os.availableParallelism()): CpuFeatures {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  // x86 says "flags", ARM "Features"
  const flags = (field('flags') || field('Features')).split(/\s+/).filter(Boolean);
  const has = (f: string) => flags.includes(f);
  const avx512bf16 = has('avx512_bf16');
  const amxBf16 = has('amx_bf16');
  return {
    model: field('model name') || field('Model') || os.cpus()[0]?.model || 'unknown',
    logicalCores,
    avx2: has('avx2'),
    avx512f: has('avx512f'),
    avx512bf16,
    amxBf16,
    nativeBf16: avx512bf16 || amxBf16,
    flags,
  };
}

let cached: CpuFeatures | undefined;

/** This machine's CPU (Linux: /proc/cpuinfo; elsewhere only the model and core count). */
export function cpuFeatures(): CpuFeatures {
  if (cached) return cached;
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: no flags
  }
  return (cached = parseCpuInfo(text));
}
