// Standard test functions for samplers (minimised; global minima from the literature) and their
// spaces. A study can use them as its objective instead of training, which is how the sampler
// benchmark and the worker tests run without libtorch.
import type { Params, Space } from './space.js';

export interface TestFunction {
  space: Space;
  /** Global minimum of f over the space. */
  minimum: number;
  f(p: Params): number;
}

/** Branin on x1 ∈ [-5, 10], x2 ∈ [0, 15]; minimum 0.397887 at three points. */
const branin: TestFunction = {
  space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
  minimum: 0.397887357729738,
  f(p) {
    const x1 = p.x1 as number;
    const x2 = p.x2 as number;
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const H6_ALPHA = [1, 1.2, 3, 3.2];

/** Hartmann-6 on [0, 1]^6; minimum -3.32237. */
const hartmann6: TestFunction = {
  space: Object.fromEntries(
    Array.from({ length: 6 }, (_, i) => [`x${i + 1}`, { type: 'float' as const, low: 0, high: 1 }]),
  ),
  minimum: -3.32236801141551,
  f(p) {
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += H6_A[i]![j]! * ((p[`x${j + 1}`] as number) - H6_P[i]![j]!) ** 2;
      s += H6_ALPHA[i]! * Math.exp(-inner);
    }
    return -s;
  },
};

export const TEST_FUNCTIONS: Readonly<Record<string, TestFunction>> = { branin, hartmann6 };
