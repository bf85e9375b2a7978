// Fitting a run to a wall-clock budget: epochs × iterations from a measured step time first, then
// the epoch count refitted after every epoch from the median epoch time so far.

export interface EpochPlan {
  totalEpochs: number;
  itersPerEpoch: number;
}

/**
 * From the seconds per step: as many steps as fit in the budget (10 % kept for validation and
 * checkpoints), at most `itersPerEpoch` per epoch and at least 10 epochs to validate after.
 */
export function fitEpochs(budgetSeconds: number, secondsPerStep: number, itersPerEpoch: number): EpochPlan {
  const steps = Math.max(10, Math.floor(budgetSeconds / (secondsPerStep * 1.1)));
  const iters = Math.max(1, Math.min(itersPerEpoch, Math.floor(steps / 10)));
  return { itersPerEpoch: iters, totalEpochs: Math.max(1, Math.floor(steps / iters)) };
}

/**
 * The epoch count after `done` epochs with `secondsLeft` of the budget left. The median epoch time is
 * used: the first epochs carry first-call costs, and a machine shared with other jobs has slow spells
 * that one epoch alone would extrapolate.
 */
export function refitEpochs(done: number, epochSeconds: readonly number[], secondsLeft: number): number {
  const typical = [...epochSeconds].sort((a, b) => a - b)[epochSeconds.length >> 1]!;
  return Math.max(done, done + Math.floor(secondsLeft / (typical * 1.05)));
}
