// Every differentiable op's gradient from autograd against central finite differences (float64), on
// MEDSEG_TEST_DEVICE (cpu when unset).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, grad, F } from '../../src/engine/index.js';
import { assertClose, finiteDifference, seededValues } from '../helpers/numeric.js';
import { testDevice } from '../helpers/device.js';

const device = testDevice();

function input(shape: number[], seed: number, scale = 1): Tensor {
  return Tensor.fromArray(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
    'float64',
    device,
  );
}

/** Checks d f(x)·w / dx, with a fixed random projection w so that every output element counts. */
function checkGrad(name: string, shape: number[], f: (x: Tensor) => Tensor, seed = 1): void {
  tidy(() => {
    const x = input(shape, seed).requiresGrad_();
    const probe = f(x);
    const w = input([...probe.shape], seed + 100);
    const scalar = (t: Tensor) => f(t).mul(w).sum();
    const [g] = grad([scalar(x)], [x]);
    assert.ok(g, `${name}: no gradient`);
    const fd = finiteDifference((t) => scalar(t).item(), x.detach());
    assertClose(g, fd, { rtol: 1e-4, atol: 1e-6, what: `${name} gradient` });
  });
}

test('gradients of elementwise ops and reductions', () => {
  checkGrad('mul/add/exp', [2, 3], (x) => x.mul(x).add(x.exp()));
  checkGrad('div/log', [5], (x) => x.abs().add(0.5).log().div(x.abs().add(1)));
  checkGrad('sigmoid/tanh', [4], (x) => x.sigmoid().add(x.tanh()));
  checkGrad('mean/sum', [2, 3], (x) => x.mean(1, true).add(x.sum(0)));
  checkGrad('softmax', [2, 4], (x) => F.softmax(x, 1));
  checkGrad('log_softmax', [2, 4], (x) => F.logSoftmax(x, 1));
  checkGrad('leaky_relu', [6], (x) => F.leakyRelu(x, 0.1));
  checkGrad('matmul', [3, 4], (x) => x.matmul(x.transpose(0, 1)));
});

test('gradients of convolutions (1D, 2D, 3D, strided, grouped) and transposed convolutions', () => {
  const w3 = input([3, 2, 3, 3, 3], 7, 0.5);
  checkGrad('conv3d', [2, 2, 4, 4, 4], (x) => F.conv(x, w3, null, { padding: 1 }));
  checkGrad('conv3d stride 2', [1, 2, 5, 5, 5], (x) => F.conv(x, w3, null, { stride: 2, padding: 1 }));
  const w2 = input([4, 1, 3, 3], 8, 0.5);
  checkGrad('conv2d grouped', [1, 2, 5, 5], (x) => F.conv(x, w2, null, { groups: 2 }));
  const w1 = input([2, 3, 1, 1, 1], 9);
  checkGrad('conv 1x1x1', [2, 3, 2, 3, 2], (x) => F.conv(x, w1, null));
  checkGrad('conv weight', [3, 2, 3, 3, 3], (w) =>
    F.conv(input([1, 2, 4, 4, 4], 3), w, null, { padding: 1 }),
  );
  const wt = input([3, 2, 2, 2, 2], 10, 0.5);
  checkGrad('conv_transpose3d input', [2, 3, 2, 3, 2], (x) => F.convTranspose(x, wt, null, { stride: 2 }));
  checkGrad('conv_transpose3d weight', [3, 2, 2, 2, 2], (w) =>
    F.convTranspose(input([2, 3, 2, 2, 2], 11), w, null, { stride: 2 }),
  );
  const wt2 = input([2, 2, 3, 3], 12, 0.5);
  checkGrad('conv_transpose2d k3 s2 p1 op1', [1, 2, 3, 3], (x) =>
    F.convTranspose(x, wt2, null, { stride: 2, padding: 1, outputPadding: 1 }),
  );
});

test('gradients of normalisation, pooling, resampling and losses', () => {
  const g = input([3], 20).add(1.5);
  const b = input([3], 21);
  checkGrad('instance_norm', [2, 3, 2, 3, 2], (x) => F.instanceNorm(x, g, b));
  checkGrad('instance_norm_leaky_relu', [2, 3, 2, 3, 2], (x) => F.instanceNormLeakyRelu(x, g, b, 1e-5, 0.01));
  checkGrad('instance_norm_leaky_relu weight', [3], (w) =>
    F.instanceNormLeakyRelu(input([2, 3, 2, 2, 2], 22), w, b, 1e-5, 0.01),
  );
  checkGrad('group_norm', [2, 4, 3, 3], (x) => F.groupNorm(x, 2, null, null));
  checkGrad('max_pool3d', [1, 2, 4, 4, 4], (x) => F.maxPool(x, 2));
  checkGrad('avg_pool3d', [1, 2, 4, 4, 4], (x) => F.avgPool(x, 2));
  checkGrad('trilinear', [1, 2, 3, 3, 3], (x) => F.interpolate(x, [5, 4, 6], 'linear'));
  const grid = input([1, 3, 4, 5, 3], 23, 0.9);
  checkGrad('grid_sample 3d', [1, 2, 3, 4, 5], (x) => F.gridSample(x, grid, 'bilinear', 'zeros', false));
  checkGrad('pad reflect', [1, 2, 4, 4], (x) => F.pad(x, [1, 2, 2, 1], 'reflect'));
  const target = Tensor.fromArray(new BigInt64Array([0n, 2n, 1n, 1n, 0n, 2n]), [2, 3]);
  checkGrad('cross_entropy', [2, 3, 3], (x) => F.crossEntropy(x, target).reshape(1));
});
