// The float32 and bfloat16 convolution kernels (oneDNN's, on CPU) against float64, which libtorch
// computes with its own reference loops: forward, input gradient and weight gradient, for batch 2
// and channel counts off oneDNN's block of 16. The float64 gradients themselves are checked
// against finite differences in gradients.test.ts. Why this exists: Debian 13's libtorch 2.6 (with
// its oneDNN 3.7) computes wrong or NaN float32 input gradients for 8-channel convs at batch 2, and
// wrong bfloat16 transposed convs with 4 or 8 output channels; the float64 tests cannot see that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, grad, F, type DType } from '../../src/engine/index.js';
import { assertClose, relativeError, seededValues } from '../helpers/numeric.js';

function values(shape: number[], seed: number, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(seededValues(n, seed, scale), shape, 'float64');
}

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  transposed?: boolean;
  stride?: number;
  padding?: number;
}

/** Output, input gradient and weight gradient of sum(conv(x, w) · probe), computed in `dtype`. */
function run(c: ConvCase, dtype: DType): Tensor[] {
  return tidy(() => {
    const x = values(c.x, 1).to(dtype).requiresGrad_();
    const w = values(c.w, 2, 0.3).to(dtype).requiresGrad_();
    const o = { stride: c.stride ?? 1, padding: c.padding ?? 0 };
    const y = c.transposed ? F.convTranspose(x, w, null, o) : F.conv(x, w, null, o);
    const probe = values([...y.shape], 3).to(dtype);
    const [gx, gw] = grad([y.mul(probe).sum()], [x, w]);
    return [y, gx!, gw!].map((t) => t.detach().to('float64'));
  });
}

const cases: ConvCase[] = [
  { name: 'conv3d 8→8, batch 2', x: [2, 8, 10, 10, 10], w: [8, 8, 3, 3, 3], padding: 1 },
  { name: 'conv3d 4→8 stride 2, batch 2', x: [2, 4, 9, 9, 9], w: [8, 4, 3, 3, 3], stride: 2, padding: 1 },
  { name: 'conv3d 16→24, batch 2', x: [2, 16, 8, 8, 8], w: [24, 16, 3, 3, 3], padding: 1 },
  { name: 'conv2d 8→8, batch 2', x: [2, 8, 16, 16], w: [8, 8, 3, 3], padding: 1 },
  {
    name: 'transposed conv3d 8→4 stride 2',
    x: [2, 8, 5, 5, 5],
    w: [8, 4, 2, 2, 2],
    stride: 2,
    transposed: true,
  },
  {
    name: 'transposed conv3d 16→8 stride 2',
    x: [2, 16, 4, 4, 4],
    w: [16, 8, 2, 2, 2],
    stride: 2,
    transposed: true,
  },
];

test('float32 convolutions and their gradients match float64 for channel counts off the block of 16', () => {
  for (const c of cases) {
    const ref = run(c, 'float64');
    const got = run(c, 'float32');
    ['output', 'input gradient', 'weight gradient'].forEach((what, i) => {
      assert.ok(!Number.isNaN(got[i]!.sum().item()), `${c.name}: NaN in the ${what}`);
      assertClose(got[i]!, ref[i]!, { rtol: 1e-4, atol: 1e-4, what: `${c.name} ${what}` });
    });
    [...ref, ...got].forEach((t) => t.dispose());
  }
});

test('bfloat16 convolutions and transposed convolutions stay within 1% of float64', () => {
  for (const c of cases) {
    const ref = run(c, 'float64');
    const low = tidy(() => {
      const x = values(c.x, 1).to('bfloat16');
      const w = values(c.w, 2, 0.3).to('bfloat16');
      const o = { stride: c.stride ?? 1, padding: c.padding ?? 0 };
      return (c.transposed ? F.convTranspose(x, w, null, o) : F.conv(x, w, null, o)).to('float64');
    });
    const err = relativeError(low, ref[0]!);
    assert.ok(err < 0.01, `${c.name}: bfloat16 output off by ${(err * 100).toFixed(1)}% (relative L2)`);
    [...ref, low].forEach((t) => t.dispose());
  }
});
