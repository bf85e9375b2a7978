// U-Net construction from specs, the nnU-Net parameter count, shapes of every variant, and a tiny
// network learning a synthetic segmentation problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, manualSeed, randn, noGrad } from '../../src/engine/index.js';
import {
  UNet,
  defaultPlainSpec,
  validateSpec,
  deepSupervisionLoss,
  deepSupervisionWeights,
  type UNetSpec,
} from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';

test("nnU-Net's 3d_fullres PlainConvUNet for 64³, 1 channel, 3 classes has exactly 16,548,076 parameters", () => {
  const spec = defaultPlainSpec([64, 64, 64], 1, 3);
  assert.equal(spec.features.length, 5);
  assert.deepEqual(spec.features, [32, 64, 128, 256, 320]);
  const net = new UNet(spec);
  assert.equal(net.numParameters(), 16548076);
  const names = net.namedParameters().map(([n]) => n);
  assert.ok(names.includes('encoder.stages.0.0.convs.0.conv.weight'));
  assert.ok(names.includes('encoder.stages.4.0.convs.1.norm.bias'));
  assert.ok(names.includes('decoder.transpconvs.0.weight'));
  assert.ok(names.includes('decoder.seg_layers.3.bias'));
  net.dispose();
  // 6 stages at most, and fewer for small patches
  assert.equal(defaultPlainSpec([256, 256, 256], 1, 2).features.length, 6);
  assert.equal(defaultPlainSpec([16, 16, 16], 1, 2).features.length, 3);
});

test('invalid specs are rejected with every problem listed', () => {
  const bad = { ...defaultPlainSpec([32, 32, 32], 1, 2), strides: [[1, 1, 1]], dims: 4 } as UNetSpec;
  const errs = validateSpec(bad);
  assert.ok(errs.some((e) => /dims/.test(e)));
  assert.ok(errs.some((e) => /strides/.test(e)));
  assert.throws(() => new UNet(bad), /invalid U-Net spec/);
});

test('plain, residual, SE and 2D U-Nets give deep-supervision outputs at every decoder resolution', () => {
  manualSeed(1);
  const base = defaultPlainSpec([16, 16, 16], 2, 3);
  const variants: UNetSpec[] = [
    { ...base, features: [4, 8, 16] },
    { ...base, features: [4, 8, 16], architecture: 'residual', encoderBlocks: [1, 2, 2] },
    {
      ...base,
      features: [4, 8, 16],
      architecture: 'residual',
      encoderBlocks: [1, 1, 1],
      squeezeExcitation: true,
    },
    {
      ...base,
      features: [4, 8, 16],
      kernelSizes: [
        [1, 3, 3],
        [3, 3, 3],
        [3, 3, 3],
      ],
      strides: [
        [1, 1, 1],
        [1, 2, 2],
        [2, 2, 2],
      ],
    },
    { ...defaultPlainSpec([16, 16], 2, 3), features: [4, 8, 16] },
  ];
  for (const spec of variants) {
    tidy(() => {
      const net = new UNet(spec);
      const x = randn([2, 2, ...new Array<number>(spec.dims).fill(16)]);
      const outs = net.forwardAll(x);
      assert.equal(outs.length, spec.features.length - 1);
      let size = new Array<number>(spec.dims).fill(16);
      for (let i = 0; i < outs.length; i++) {
        assert.deepEqual(outs[i]!.shape, [2, 3, ...size], `${spec.architecture} output ${i}`);
        size = size.map((s, d) => s / spec.strides[i + 1]![d]!);
      }
      net.dispose();
    });
  }
});

test('deep-supervision weights are 1/2^i with the lowest resolution dropped, normalised', () => {
  const w = deepSupervisionWeights(4);
  assert.deepEqual(
    w.map((v) => +v.toFixed(6)),
    [4 / 7, 2 / 7, 1 / 7, 0].map((v) => +v.toFixed(6)),
  );
});

test('a tiny U-Net learns a synthetic sphere segmentation to a low loss', () => {
  manualSeed(3);
  const spec: UNetSpec = { ...defaultPlainSpec([16, 16, 16], 1, 2), features: [8, 16, 32] };
  const net = new UNet(spec);
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 3e-5 });
  // Bright noisy spheres at random places: label = inside.
  const batch = () =>
    tidy(() => {
      const imgs: number[] = [];
      const labs: bigint[] = [];
      for (let b = 0; b < 2; b++) {
        const c = [4 + Math.random() * 8, 4 + Math.random() * 8, 4 + Math.random() * 8];
        const r = 3 + Math.random() * 2;
        for (let z = 0; z < 16; z++)
          for (let y = 0; y < 16; y++)
            for (let x = 0; x < 16; x++) {
              const inside = Math.hypot(z - c[0]!, y - c[1]!, x - c[2]!) < r;
              imgs.push((inside ? 1 : 0) + 0.3 * (Math.random() - 0.5));
              labs.push(inside ? 1n : 0n);
            }
      }
      return {
        x: Tensor.fromArray(Float32Array.from(imgs), [2, 1, 16, 16, 16]),
        y: Tensor.fromArray(BigInt64Array.from(labs), [2, 16, 16, 16]),
      };
    });
  const losses: number[] = [];
  for (let step = 0; step < 60; step++) {
    const { x, y } = batch();
    losses.push(
      tidy(() => {
        const l = deepSupervisionLoss(net.forwardAll(x), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      }),
    );
    x.dispose();
    y.dispose();
  }
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.35 * first, `loss fell from ${first.toFixed(3)} to only ${last.toFixed(3)}`);
  // and the prediction segments a new case well
  const { x, y } = batch();
  const dice = tidy(() => {
    net.eval();
    const pred = noGrad(() => net.forward(x)).argmax(1);
    const p = pred.eq(1);
    const t = y.eq(1);
    const inter = p.logicalAnd(t).countNonzero();
    return (2 * inter) / (p.countNonzero() + t.countNonzero());
  });
  assert.ok(dice > 0.8, `Dice on a new case ${dice.toFixed(3)}`);
  net.dispose();
  opt.dispose();
});
