// Numeric comparison helpers for tests.
import assert from 'node:assert/strict';
import { Tensor, tidy } from '../../src/engine/index.js';

export function toF64(x: Tensor | ArrayLike<number>): Float64Array {
  if (x instanceof Tensor) return tidy(() => x.to('float64').toArray() as Float64Array);
  return Float64Array.from(x);
}

/** max |a − b| / (atol + rtol·|b|) ≤ 1, with a message naming the worst element. */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  o: { rtol?: number; atol?: number; what?: string } = {},
): void {
  const a = toF64(actual);
  const b = toF64(expected);
  assert.equal(a.length, b.length, `${o.what ?? 'values'}: length ${a.length} vs ${b.length}`);
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-6;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  assert.ok(
    worst <= 1,
    `${o.what ?? 'values'}: element ${at} is ${a[at]} vs ${b[at]} (error ratio ${worst.toFixed(2)})`,
  );
}

/** Relative L2 error ‖a − b‖ / ‖b‖. */
export function relativeError(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
): number {
  const a = toF64(actual);
  const b = toF64(expected);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** Central finite differences of a scalar function f(x) (x float64), at every element of x. */
export function finiteDifference(f: (x: Tensor) => number, x: Tensor, eps = 1e-6): Float64Array {
  const base = x.toArray() as Float64Array;
  const g = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = Float64Array.from(base);
    plus[i]! += eps;
    const minus = Float64Array.from(base);
    minus[i]! -= eps;
    const fp = tidy(() => f(Tensor.fromArray(plus, x.shape, 'float64', x.device)));
    const fm = tidy(() => f(Tensor.fromArray(minus, x.shape, 'float64', x.device)));
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** Deterministic pseudo-random numbers for test inputs (independent of libtorch's generator). */
export function seededValues(n: number, seed = 1, scale = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function ref(t: Tensor): { data: Float64Array; shape: number[] } {
  return { data: toF64(t), shape: [...t.shape] };
}
