// The ranges numeric options accept, in one place below every layer: the CLI checks its flags
// against them (src/cli/args.ts) and the library checks the same options given in code
// (src/train/checkOptions.ts, the plan schema), so both refuse a value with the same words.

/** The accepted range of a numeric option (bounds inclusive unless marked exclusive). */
export interface Range {
  min?: number;
  max?: number;
  /** true: the value must be strictly above min (e.g. a learning rate > 0). */
  minExclusive?: boolean;
}

/** Seeds: integers JavaScript represents exactly (what libtorch's manual_seed then receives). */
export const SEED_RANGE: Range = { min: 0, max: Number.MAX_SAFE_INTEGER };
/** Thread counts: at least one, and no more than any machine this runs on could use. */
export const THREADS_RANGE: Range = { min: 1, max: 1024 };
/** Memory budgets in GB. */
export const MEMORY_GB_RANGE: Range = { min: 0, minExclusive: true, max: 1_000_000 };
/** Learning rates: positive; above 10 no optimiser here converges. */
export const LR_RANGE: Range = { min: 0, minExclusive: true, max: 10 };
/** Cross-validation fold numbers. */
export const FOLD_RANGE: Range = { min: 0, max: 999 };
/** Counts of epochs, iterations, steps. */
export const COUNT_RANGE: Range = { min: 1, max: 100_000_000 };
/** Warm-up steps: none is allowed. */
export const WARMUP_RANGE: Range = { min: 0, max: 100_000_000 };
/** Wall-clock budgets in seconds: positive, at most a year. */
export const BUDGET_SECONDS_RANGE: Range = { min: 0, minExclusive: true, max: 365 * 24 * 3600 };
/** Weight of a loss term (Dice or cross-entropy; nnU-Net: 1 each). 0 switches the term off. */
export const LOSS_WEIGHT_RANGE: Range = { min: 0, max: 100 };
/** Share of each batch forced to contain foreground (nnU-Net's oversample_foreground_percent). */
export const OVERSAMPLING_RANGE: Range = { min: 0, max: 1 };
/**
 * Augmentation strength: 1 is the trainer's standard augmentation, 0 none; it multiplies every
 * transform's probability (src/train/augment.ts), so above 1/0.3 (gamma's 0.3) nothing grows any more.
 */
export const AUGMENTATION_RANGE: Range = { min: 0, max: 3 };

/** "a number > 0 and ≤ 10", "an integer from 1 to 1024", "an integer ≥ 0". */
export function describeRange(r: Range, integer: boolean): string {
  const kind = integer ? 'an integer' : 'a number';
  const lo = r.min === undefined ? undefined : `${r.minExclusive ? '>' : '≥'} ${r.min}`;
  const hi = r.max === undefined ? undefined : `≤ ${r.max}`;
  if (integer && lo && hi && !r.minExclusive) return `${kind} from ${r.min} to ${r.max}`;
  if (lo && hi) return `${kind} ${lo} and ${hi}`;
  return [kind, lo ?? hi].filter(Boolean).join(' ');
}

/** Whether n is a finite number (a safe integer when `integer`) inside `range`. */
export function inRange(n: unknown, range: Range, integer: boolean): n is number {
  return (
    typeof n === 'number' &&
    Number.isFinite(n) &&
    (!integer || Number.isSafeInteger(n)) &&
    (range.min === undefined || (range.minExclusive ? n > range.min : n >= range.min)) &&
    (range.max === undefined || n <= range.max)
  );
}

/** "must be an integer from 1 to 1024": what a refusal says after the option's name. */
export const mustBe = (range: Range, integer: boolean): string => `must be ${describeRange(range, integer)}`;
