// Learning-rate schedules.

/** nnU-Net's poly schedule: lr0 · (1 − step/total)^0.9. */
export function polyLR(initial: number, step: number, total: number, exponent = 0.9): number {
  const f = Math.max(0, 1 - Math.min(step, total) / Math.max(1, total));
  return initial * f ** exponent;
}
