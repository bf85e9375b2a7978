// What the planner needs to know about this CPU (engine/cpu.ts reads it): whether bf16 is native,
// so on by default, and which flags change step times (part of the calibration's cache key).
import { cpuFeatures } from '../engine/cpu.js';

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

/** This machine's CPU model and flags. */
export function thisCpu(): { model: string; flags: string[] } {
  const c = cpuFeatures();
  return { model: c.model, flags: c.flags };
}

/** bf16 autocast by default on this machine (native bf16 only; `--fp32` turns it off). */
export function defaultBf16(): boolean {
  return hasNativeBf16(thisCpu().flags);
}
