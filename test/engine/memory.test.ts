// Memory: scopes free every intermediate, and a long training loop holds a flat RSS profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, keep, zeros, randn, randint, manualSeed, Tensor } from '../../src/engine/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';

test('tidy frees what it created, keeps what it returns and what was kept', () => {
  let inner: Tensor | undefined;
  let kept: Tensor | undefined;
  const out = tidy(() => {
    inner = zeros([10]).add(1);
    kept = keep(zeros([3]));
    return { a: inner.mul(2), list: [zeros([2])] };
  });
  assert.ok(inner!.isDisposed);
  assert.ok(!kept!.isDisposed);
  assert.ok(!out.a.isDisposed && !out.list[0]!.isDisposed);
  assert.equal(out.a.sum().item(), 20);
  // nested: a result of the inner scope belongs to the outer one
  let mid: Tensor | undefined;
  tidy(() => {
    mid = tidy(() => zeros([4]));
    assert.ok(!mid.isDisposed);
  });
  assert.ok(mid!.isDisposed);
  // an exception frees the scope too
  let leaked: Tensor | undefined;
  assert.throws(() =>
    tidy(() => {
      leaked = zeros([5]);
      throw new Error('boom');
    }),
  );
  assert.ok(leaked!.isDisposed);
  assert.throws(() => tidy(() => Promise.resolve(1)), /synchronous/);
});

test('300 training steps of a small U-Net hold a flat memory profile', () => {
  manualSeed(0);
  const net = new UNet({ ...defaultPlainSpec([24, 24, 24], 1, 3), features: [8, 16, 32] });
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const step = () =>
    tidy(() => {
      const x = randn([2, 1, 24, 24, 24]);
      const y = randint(0, 3, [2, 24, 24, 24]);
      const l = deepSupervisionLoss(net.forwardAll(x), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    });
  for (let i = 0; i < 40; i++) step();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 260; i++) step();
  const growthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  // One step's activations are ~10 MB here; leaking even one of its larger tensors (0.9 MB) per
  // step would add ~230 MB, so 64 MB leaves room for the JS heap's own growth and nothing more.
  assert.ok(growthMb < 64, `RSS grew ${growthMb.toFixed(1)} MB over 260 steps`);
  net.dispose();
  opt.dispose();
});
