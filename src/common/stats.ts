// Small statistics several layers share (planning, evaluation, post-processing, benchmarks), so that
// each is defined once.

/**
 * The q-th percentile (0 ≤ q ≤ 100) of ascending values, with linear interpolation (numpy's default
 * method): h = (n−1)·q/100, a[⌊h⌋] + (h − ⌊h⌋)·(a[⌊h⌋+1] − a[⌊h⌋]). NaN for no values.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * (q / 100);
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  if (lo >= n - 1) return sorted[n - 1]!;
  const b = sorted[lo + 1]!;
  const t = h - lo;
  if (a === b) return a;
  // numpy's lerp: from the nearer end, so that t = 1 gives b exactly.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** The median (mean of the two middle values for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Mean skipping NaN; NaN when every value is NaN. */
export function nanMean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}
