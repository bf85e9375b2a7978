// Small parsing helpers shared by the CLI commands.
import { UsageError } from './command.js';

/** "64,64,64" → [64, 64, 64], with a clear error naming the option. */
export function parseIntList(value: string | undefined, option: string, length?: number): number[] {
  if (value === undefined) throw new UsageError(`--${option} is required`);
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (
    parts.some((n) => !Number.isInteger(n) || n <= 0) ||
    (length !== undefined && parts.length !== length)
  ) {
    throw new UsageError(
      `--${option} must be ${length ?? 'a list of'} positive integers separated by commas, got '${value}'`,
    );
  }
  return parts;
}

export function parsePositiveInt(
  value: string | undefined,
  option: string,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new UsageError(
      `--${option} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${value}'`,
    );
  return n;
}
