// Prediction's precision when nobody said. On a CPU with native bf16 (AVX512-BF16 or AMX), bf16
// autocast halves the time per case, as it does for training: one BraTS case (240×240×155, 2
// channels, the 40-minute budget plan's 64×96×112 network, 2-core EPYC, no mirroring) took 24.6 s
// against 50.6 s in fp32, and the two label maps agreed on 99.99 % of voxels (Dice between them
// ≥ 0.993 per label; bench/RESULTS.md). On a GPU the caller chooses (--bf16 / --fp16): the CPU's
// flags say nothing about it.
import { defaultBf16 } from '../plan/cpu.js';

/** The autocast dtype prediction on `device` uses when neither --bf16, --fp16 nor --fp32 was given. */
export function autocastByDefault(device: string): 'bfloat16' | null {
  return device === 'cpu' && defaultBf16() ? 'bfloat16' : null;
}
