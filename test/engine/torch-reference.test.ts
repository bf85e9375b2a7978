// Forward values and gradients of the U-Net ops in float32, against PyTorch (Debian's torch via
// /usr/bin/python3): this covers the routed paths (oneDNN for batch-1 convs, transposed convs
// through convolution_backward, 1×1 convs as matmuls, the fused norm + activation).
import { test } from 'node:test';
import { Tensor, tidy, grad, noGrad, F } from '../../src/engine/index.js';
import { assertClose, seededValues, ref } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

function f32(shape: number[], seed: number, scale = 1): Tensor {
  return Tensor.fromArray(
    Float32Array.from(
      seededValues(
        shape.reduce((a, b) => a * b, 1),
        seed,
        scale,
      ),
    ),
    shape,
  );
}

test('conv3d forward (batch 1 via oneDNN, batch 2) and gradients match PyTorch', { skip }, () => {
  tidy(() => {
    const x1 = f32([1, 4, 6, 7, 5], 1);
    const x2 = f32([2, 4, 6, 7, 5], 2);
    const w = f32([8, 4, 3, 3, 3], 3, 0.3);
    const b = f32([8], 4);
    const y1 = noGrad(() => F.conv(x1, w, b, { padding: 1 }));
    const xs = x2.requiresGrad_();
    const ws = w.detach().requiresGrad_();
    const y2 = F.conv(xs, ws, b, { padding: 1, stride: [1, 2, 1] });
    const go = f32([...y2.shape], 5);
    const [gx, gw] = grad([y2], [xs, ws], [go]);
    const r = torchRef(
      `
x1, x2, w, b, go = [T[k].float() for k in ('x1', 'x2', 'w', 'b', 'go')]
out['y1'] = F.conv3d(x1, w, b, padding=1)
x2.requires_grad_(); w.requires_grad_()
y2 = F.conv3d(x2, w, b, padding=1, stride=(1, 2, 1))
y2.backward(go)
out['y2'] = y2; out['gx'] = x2.grad; out['gw'] = w.grad
`,
      { x1: ref(x1), x2: ref(x2), w: ref(w), b: ref(b), go: ref(go) },
    );
    assertClose(y1, r.y1!.data, { rtol: 1e-4, atol: 1e-4, what: 'batch-1 conv' });
    assertClose(y2, r.y2!.data, { rtol: 1e-4, atol: 1e-4, what: 'strided conv' });
    assertClose(gx!, r.gx!.data, { rtol: 1e-4, atol: 1e-4, what: 'conv grad input' });
    assertClose(gw!, r.gw!.data, { rtol: 1e-4, atol: 1e-3, what: 'conv grad weight' });
  });
});

test('conv_transpose3d (k2 s2 and k3 s2 p1) forward and gradients match PyTorch', { skip }, () => {
  tidy(() => {
    const x = f32([2, 6, 3, 4, 5], 6).requiresGrad_();
    const w = f32([6, 4, 2, 2, 2], 7, 0.3).requiresGrad_();
    const b = f32([4], 8).requiresGrad_();
    const y = F.convTranspose(x, w, b, { stride: 2 });
    const go = f32([...y.shape], 9);
    const [gx, gw, gb] = grad([y], [x, w, b], [go]);
    const w3 = f32([6, 3, 3, 3, 3], 10, 0.3);
    const y3 = noGrad(() => F.convTranspose(x, w3, null, { stride: 2, padding: 1, outputPadding: 1 }));
    const r = torchRef(
      `
x, w, b, go, w3 = [T[k].float() for k in ('x', 'w', 'b', 'go', 'w3')]
for t in (x, w, b): t.requires_grad_()
y = F.conv_transpose3d(x, w, b, stride=2)
y.backward(go)
out.update(y=y, gx=x.grad, gw=w.grad, gb=b.grad)
out['y3'] = F.conv_transpose3d(x, w3, None, stride=2, padding=1, output_padding=1)
`,
      { x: ref(x), w: ref(w), b: ref(b), go: ref(go), w3: ref(w3) },
    );
    assertClose(y, r.y!.data, { rtol: 1e-4, atol: 1e-4, what: 'transposed conv' });
    assertClose(gx!, r.gx!.data, { rtol: 1e-4, atol: 1e-4, what: 'transposed grad input' });
    assertClose(gw!, r.gw!.data, { rtol: 1e-4, atol: 1e-3, what: 'transposed grad weight' });
    assertClose(gb!, r.gb!.data, { rtol: 1e-4, atol: 1e-3, what: 'transposed grad bias' });
    assertClose(y3, r.y3!.data, { rtol: 1e-4, atol: 1e-4, what: 'transposed conv k3 p1 op1' });
  });
});

test('fused instance norm + leaky ReLU and 1×1 conv match PyTorch, values and gradients', { skip }, () => {
  tidy(() => {
    const x = f32([2, 5, 4, 3, 6], 11, 3).requiresGrad_();
    const g = f32([5], 12).add(1).requiresGrad_();
    const b = f32([5], 13).requiresGrad_();
    const y = F.instanceNormLeakyRelu(x, g, b, 1e-5, 0.01);
    const go = f32([...y.shape], 14);
    const [gx, gg, gb] = grad([y], [x, g, b], [go]);
    const w1 = f32([3, 5, 1, 1, 1], 15).requiresGrad_();
    const s = F.conv(x, w1, b.narrow(0, 0, 3));
    const [gw1] = grad([s.sum()], [w1]);
    const r = torchRef(
      `
x, g, b, go, w1 = [T[k].float() for k in ('x', 'g', 'b', 'go', 'w1')]
for t in (x, g, b, w1): t.requires_grad_()
y = F.leaky_relu(F.instance_norm(x, weight=g, bias=b, eps=1e-5), 0.01)
y.backward(go)
out.update(y=y, gx=x.grad.clone(), gg=g.grad.clone(), gb=b.grad.clone())
s = F.conv3d(x.detach(), w1, b[:3].detach())
s.sum().backward()
out.update(s=s, gw1=w1.grad)
`,
      { x: ref(x), g: ref(g), b: ref(b), go: ref(go), w1: ref(w1) },
    );
    assertClose(y, r.y!.data, { rtol: 1e-4, atol: 1e-4, what: 'norm+act' });
    assertClose(gx!, r.gx!.data, { rtol: 1e-3, atol: 1e-4, what: 'norm+act grad input' });
    assertClose(gg!, r.gg!.data, { rtol: 1e-3, atol: 1e-3, what: 'norm+act grad weight' });
    assertClose(gb!, r.gb!.data, { rtol: 1e-3, atol: 1e-3, what: 'norm+act grad bias' });
    assertClose(s, r.s!.data, { rtol: 1e-4, atol: 1e-4, what: '1x1 conv' });
    assertClose(gw1!, r.gw1!.data, { rtol: 1e-4, atol: 1e-3, what: '1x1 conv grad' });
  });
});

test('resampling, pooling, losses and one-hot match PyTorch', { skip }, () => {
  tidy(() => {
    const x = f32([2, 3, 5, 6, 4], 16);
    const grid = f32([2, 3, 4, 2, 3], 17, 1.1);
    const labels = Tensor.fromArray(
      BigInt64Array.from(seededValues(2 * 5 * 6 * 4, 18), (v) => BigInt(Math.floor((v + 1) * 1.5))),
      [2, 5, 6, 4],
    );
    const mine = {
      tri: F.interpolate(x, [7, 3, 5], 'linear'),
      triac: F.interpolate(x, [7, 3, 5], 'linear', true),
      near: F.interpolate(x, [7, 3, 9], 'nearest'),
      gs: F.gridSample(x, grid, 'bilinear', 'border', true),
      gsn: F.gridSample(x, grid, 'nearest', 'zeros', false),
      mp: F.maxPool(x, [2, 2, 2], [2, 2, 2]),
      ap: F.avgPool(x, [1, 2, 2]),
      gn: F.groupNorm(x, 3, null, null),
      ce: F.crossEntropy(x, labels).reshape(1),
      cew: F.crossEntropy(x, labels, { reduction: 'sum', labelSmoothing: 0.1 }).reshape(1),
      oh: F.oneHot(labels, 3),
      sm: F.logSoftmax(x, 1),
    };
    const r = torchRef(
      `
x, grid = T['x'].float(), T['grid'].float(); labels = T['labels']
out['tri'] = F.interpolate(x, size=(7, 3, 5), mode='trilinear', align_corners=False)
out['triac'] = F.interpolate(x, size=(7, 3, 5), mode='trilinear', align_corners=True)
out['near'] = F.interpolate(x, size=(7, 3, 9), mode='nearest')
out['gs'] = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=True)
out['gsn'] = F.grid_sample(x, grid, mode='nearest', padding_mode='zeros', align_corners=False)
out['mp'] = F.max_pool3d(x, 2, 2)
out['ap'] = F.avg_pool3d(x, (1, 2, 2))
out['gn'] = F.group_norm(x, 3)
out['ce'] = F.cross_entropy(x, labels).reshape(1)
out['cew'] = F.cross_entropy(x, labels, reduction='sum', label_smoothing=0.1).reshape(1)
out['oh'] = F.one_hot(labels, 3)
out['sm'] = F.log_softmax(x, 1)
`,
      {
        x: ref(x),
        grid: ref(grid),
        labels: { data: labels.toArray() as BigInt64Array, shape: [...labels.shape] },
      },
    );
    for (const [k, v] of Object.entries(mine))
      assertClose(v, r[k]!.data, { rtol: 1e-4, atol: 1e-5, what: k });
  });
});
