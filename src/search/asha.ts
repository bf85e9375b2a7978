// Asynchronous successive halving (ASHA, Li et al. 2020) on the per-epoch validation Dice. Rungs
// sit at minEpochs · η^k epochs; a trial reaching a rung continues only when its value there is
// among the best 1/η of all values recorded at that rung so far (itself included; at least the
// best one always continues). Asynchronous: no trial waits for a rung to fill, so early trials are
// judged against few others and later ones against more.

export interface AshaOptions {
  /** Epochs before the first rung (default 1). */
  minEpochs?: number;
  /** Reduction factor η (default 3). */
  eta?: number;
}

/** The rung an epoch count completes, or -1 when it is not a rung. */
export function rungOf(epoch: number, o: AshaOptions = {}): number {
  const min = o.minEpochs ?? 1;
  const eta = o.eta ?? 3;
  let r = min;
  for (let k = 0; r <= epoch; k++, r *= eta) if (r === epoch) return k;
  return -1;
}

/**
 * Whether a trial should stop after `epoch` with `value` there (larger is better), given the values
 * other trials recorded at the same epoch (their intermediate values, any state).
 */
export function ashaShouldStop(
  epoch: number,
  value: number,
  others: readonly number[],
  o: AshaOptions = {},
): boolean {
  if (rungOf(epoch, o) < 0) return false;
  const eta = o.eta ?? 3;
  const all = [...others.filter(Number.isFinite), Number.isFinite(value) ? value : -Infinity].sort(
    (a, b) => b - a,
  );
  const keep = Math.max(1, Math.floor(all.length / eta));
  return value < all[keep - 1]! || !Number.isFinite(value);
}
