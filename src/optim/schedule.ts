// Learning-rate schedules.

/** nnU-Net's poly schedule: lr0 · (1 − step/total)^0.9. */
export function polyLR(initial: number, step: number, total: number, exponent = 0.9): number {
  const f = Math.max(0, 1 - Math.min(step, total) / Math.max(1, total));
  return initial * f ** exponent;
}

/**
 * Linear warm-up from lr0/warmup to lr0 over the first `warmup` steps, then the poly decay over the
 * steps that remain. Short runs and fine-tuning start gently: the first updates of a fresh or
 * re-headed network are the largest and least informed.
 */
export function warmupPolyLR(initial: number, step: number, total: number, warmup: number): number {
  if (warmup <= 0) return polyLR(initial, step, total);
  if (step < warmup) return (initial * (step + 1)) / warmup;
  return polyLR(initial, step - warmup, Math.max(1, total - warmup));
}
