// "30m", "2h", "90s", "1h30m" → seconds.
import { UsageError } from './command.js';

export function parseDuration(text: string, option: string): number {
  const re = /(\d+(?:\.\d+)?)\s*(h|m|s)/g;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    matched += m[0];
  }
  if (!total || matched.replace(/\s/g, '') !== text.replace(/\s/g, '')) {
    throw new UsageError(`--${option} must be a duration like 30m, 2h or 1h30m, got '${text}'`);
  }
  return total;
}
