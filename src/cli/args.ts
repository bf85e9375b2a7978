// Parsing of option values shared by every CLI command: one place where numbers are checked
// against the range the option accepts, and refused with the option's name and that range.
// (A bare Number() would let `--lr abc` train with NaN and `--seed 1e20` reach libtorch.)
import { UsageError } from './command.js';

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

/** "a number > 0 and ≤ 10", "an integer from 1 to 1024", "an integer ≥ 0". */
export function describeRange(r: Range, integer: boolean): string {
  const kind = integer ? 'an integer' : 'a number';
  const lo = r.min === undefined ? undefined : `${r.minExclusive ? '>' : '≥'} ${r.min}`;
  const hi = r.max === undefined ? undefined : `≤ ${r.max}`;
  if (integer && lo && hi && !r.minExclusive) return `${kind} from ${r.min} to ${r.max}`;
  if (lo && hi) return `${kind} ${lo} and ${hi}`;
  return [kind, lo ?? hi].filter(Boolean).join(' ');
}

function checked(value: string, option: string, range: Range, integer: boolean): number {
  const text = value.trim();
  // Number('') is 0 and Number('0x10') is 16: only plain decimal notation is a number here
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
  const ok =
    Number.isFinite(n) &&
    (!integer || Number.isSafeInteger(n)) &&
    (range.min === undefined || (range.minExclusive ? n > range.min : n >= range.min)) &&
    (range.max === undefined || n <= range.max);
  if (!ok) throw new UsageError(`--${option} must be ${describeRange(range, integer)}, got '${value}'`);
  return n;
}

/** The number of an option within `range`, or undefined when the option is absent. */
export function parseNumber(value: string | undefined, option: string, range: Range): number | undefined {
  return value === undefined ? undefined : checked(value, option, range, false);
}

/** The integer of an option within `range`, or undefined when the option is absent. */
export function parseInteger(value: string | undefined, option: string, range: Range): number | undefined {
  return value === undefined ? undefined : checked(value, option, range, true);
}

/** "64,64,64" → [64, 64, 64], with a clear error naming the option. */
export function parseIntList(value: string | undefined, option: string, length?: number): number[] {
  if (value === undefined) throw new UsageError(`--${option} is required`);
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (
    parts.some((n) => !Number.isSafeInteger(n) || n <= 0) ||
    (length !== undefined && parts.length !== length)
  ) {
    throw new UsageError(
      `--${option} must be ${length ?? 'a list of'} positive integers separated by commas, got '${value}'`,
    );
  }
  return parts;
}

/** A positive (or, with allowZero, non-negative) safe integer; `fallback` when absent. */
export function parsePositiveInt(
  value: string | undefined,
  option: string,
  fallback: number,
  allowZero = false,
): number {
  return parseInteger(value, option, { min: allowZero ? 0 : 1, max: Number.MAX_SAFE_INTEGER }) ?? fallback;
}
