// What the planner needs to know about this CPU: its model and the instruction-set flags that change
// step times (native bf16 above all), read from /proc/cpuinfo. Pure parsers take the text, so tests
// feed them any machine's cpuinfo.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuInfo {
  model: string;
  /** Sorted, de-duplicated flags of the first processor. */
  flags: string[];
}

/** Model name and flags of the first processor listed in a /proc/cpuinfo text. */
export function parseCpuInfo(text: string): CpuInfo {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const flags = [...new Set(field('flags').split(/\s+/).filter(Boolean))].sort();
  return { model: field('model name') || 'unknown', flags };
}

/**
 * Native bf16 arithmetic: AVX512-BF16 (Zen 4, Cooper Lake) or AMX-BF16 (Sapphire Rapids). Without
 * them oneDNN emulates bf16 and autocast is slower than float32, so it is never on by default there.
 */
export function hasNativeBf16(flags: readonly string[]): boolean {
  return flags.includes('avx512_bf16') || flags.includes('amx_bf16');
}

/** The flags that change which kernels libtorch/oneDNN run (the rest do not affect step times). */
export const PERFORMANCE_FLAGS = [
  'avx2',
  'fma',
  'avx512f',
  'avx512bw',
  'avx512_vnni',
  'avx512_bf16',
  'amx_tile',
  'amx_bf16',
  'amx_int8',
] as const;

let cached: CpuInfo | null = null;

/** This machine's CPU (model from os.cpus() where /proc/cpuinfo is missing, e.g. macOS). */
export function thisCpu(): CpuInfo {
  if (cached) return cached;
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // no /proc: model only, no flags (bf16 then stays off by default)
  }
  const info = parseCpuInfo(text);
  if (info.model === 'unknown') info.model = os.cpus()[0]?.model ?? 'unknown';
  cached = info;
  return info;
}

/** bf16 autocast by default on this machine (native bf16 only; `--fp32` turns it off). */
export function defaultBf16(): boolean {
  return hasNativeBf16(thisCpu().flags);
}
