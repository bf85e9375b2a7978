// The float16 loss scaler's rule (torch.cuda.amp.GradScaler's), on the test device: gradients are
// unscaled exactly, a non-finite gradient skips the step and halves the scale, growthInterval good
// steps double it, and a scaled step in float32 equals an unscaled one bit for bit (the scale is a
// power of two; on a GPU, equal up to the order of cuDNN's additions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, keep, manualSeed, randn, randint, Tensor } from '../../src/engine/index.js';
import { SGD, GradScaler } from '../../src/optim/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../../src/nn/index.js';
import { trainOnBatch, type StepParts } from '../../src/train/step.js';
import { testDevice } from '../helpers/device.js';
import { assertClose } from '../helpers/numeric.js';

const device = testDevice();

function param(values: number[]): Tensor {
  const p = keep(Tensor.fromArray(Float32Array.from(values), [values.length], 'float32', device));
  p.requiresGrad = true;
  return p;
}

test('unscale divides the gradients by the scale and reports them finite', () => {
  const p = param([1, 2, 3]);
  const scaler = new GradScaler({ initScale: 1024 });
  tidy(() => scaler.scaleLoss(p.mul(p).sum()).backward());
  assert.equal(scaler.unscale([p]), false);
  const g = p.grad!;
  // d(sum p²)/dp = 2p, scaled by 1024 then unscaled
  assert.deepEqual([...(g.toArray() as Float32Array)], [2, 4, 6]);
  g.dispose();
  p.dispose();
});

test('an inf gradient skips the step and halves the scale; growthInterval good steps double it', () => {
  const p = param([1, -1]);
  const opt = new SGD([p], { lr: 0.1 });
  const scaler = new GradScaler({ initScale: 256, growthInterval: 3 });
  const before = [...(p.toArray() as Float32Array)];
  // a loss whose gradient overflows: d/dp (p · inf) = inf
  tidy(() => scaler.scaleLoss(p.mul(Infinity).sum()).backward());
  assert.equal(scaler.step(opt), false, 'the step is skipped');
  assert.deepEqual([...(p.toArray() as Float32Array)], before, 'the parameters are unchanged');
  assert.equal(p.grad, null, 'the gradients were dropped');
  assert.equal(scaler.scale, 128);
  assert.equal(scaler.skipped, 1);
  // NaN is non-finite too
  tidy(() => scaler.scaleLoss(p.mul(NaN).sum()).backward());
  assert.equal(scaler.step(opt), false);
  assert.equal(scaler.scale, 64);
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    tidy(() => scaler.scaleLoss(p.mul(p).sum()).backward());
    assert.equal(scaler.step(opt), true);
    assert.equal(scaler.scale, i < 2 ? 64 : 128, `after ${i + 1} good step(s)`);
  }
  assert.deepEqual(scaler.state(), { scale: 128, goodSteps: 0 });
  // p went 1 → 0.8 → 0.64 → 0.512 (three SGD steps on p², lr 0.1)
  const now = p.toArray() as Float32Array;
  assert.ok(Math.abs(now[0]! - 0.512) < 1e-6 && Math.abs(now[1]! + 0.512) < 1e-6, `${now}`);
  // a scaler continues from a saved state
  const resumed = new GradScaler({}, scaler.state());
  assert.equal(resumed.scale, 128);
  opt.dispose();
  p.dispose();
});

test('a scaled float32 train step equals the unscaled one bit for bit', () => {
  const spec = { ...defaultPlainSpec([16, 16, 16], 1, 3, 3), features: [4, 8, 16] };
  const weights = (withScaler: boolean) => {
    manualSeed(5);
    const net = new UNet(spec);
    if (device !== 'cpu') net.to(device);
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
    const parts: StepParts = {
      forward: (x) => net.forwardAll(x),
      loss: deepSupervisionLoss,
      opt,
      precision: null,
      lrAt: () => 0.01,
      scaler: withScaler ? new GradScaler() : null,
    };
    const x = keep(randn([2, 1, 16, 16, 16], { device }));
    const y = keep(randint(0, 3, [2, 16, 16, 16], { device }));
    for (let s = 0; s < 3; s++) trainOnBatch(parts, s, { x, y });
    const out = [...net.stateDict()].map(([k, t]) => [k, [...(t.toArray() as Float32Array)]] as const);
    x.dispose();
    y.dispose();
    opt.dispose();
    net.dispose();
    return out;
  };
  const plain = weights(false);
  const scaled = weights(true);
  assert.ok(plain.length > 10);
  for (let i = 0; i < plain.length; i++) {
    if (device === 'cpu') assert.deepEqual(scaled[i], plain[i], `${plain[i]![0]} differs`);
    // cuDNN's backward kernels may add in a different order from run to run
    else assertClose(scaled[i]![1], plain[i]![1], { rtol: 1e-4, atol: 1e-6, what: plain[i]![0] });
  }
});

test('the scaler rejects nonsense options', () => {
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), /backoffFactor/);
  assert.throws(() => new GradScaler({ growthInterval: 0 }), /growthInterval/);
});
