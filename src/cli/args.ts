// Parsing of option values shared by every CLI command: one place where numbers are checked
// against the range the option accepts, and refused with the option's name and that range.
// (A bare Number() would let `--lr abc` train with NaN and `--seed 1e20` reach libtorch.)
// The ranges themselves live below every layer (src/common/ranges.ts): the library checks the same
// options given in code against them, with the same words.
import { UsageError } from './command.js';
import { inRange, mustBe, type Range } from '../common/ranges.js';
export {
  describeRange,
  type Range,
  SEED_RANGE,
  THREADS_RANGE,
  MEMORY_GB_RANGE,
  LR_RANGE,
  FOLD_RANGE,
  COUNT_RANGE,
  WARMUP_RANGE,
  LOSS_WEIGHT_RANGE,
  OVERSAMPLING_RANGE,
  AUGMENTATION_RANGE,
} from '../common/ranges.js';
import { CHECKPOINT_NAMES, isCheckpointName, type CheckpointName } from '../train/checkpointChoice.js';

/** A checkpoint name (latest or best), or undefined when the option is absent. */
export function parseCheckpoint(value: string | undefined, option: string): CheckpointName | undefined {
  if (value === undefined || isCheckpointName(value)) return value;
  throw new UsageError(`--${option} must be ${CHECKPOINT_NAMES.join(' or ')}`);
}

function checked(value: string, option: string, range: Range, integer: boolean): number {
  const text = value.trim();
  // Number('') is 0 and Number('0x10') is 16: only plain decimal notation is a number here
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
  const ok = inRange(n, range, integer);
  if (!ok) throw new UsageError(`--${option} ${mustBe(range, integer)}, got '${value}'`);
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
