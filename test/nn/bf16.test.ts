// bf16 autocast: convolutions and matmuls in bfloat16 with float32 weights; outputs and gradients
// stay close to float32. Bounds: bfloat16 keeps 8 significant bits (relative rounding 2^-8 ≈ 0.4%),
// so one conv layer should stay within ~1%, a whole U-Net forward within ~5% relative L2 error.
// Deep weight gradients pass through every bf16 layer twice: PyTorch's own CPU autocast gives a
// 0.26 relative error on the same network's stage-1 conv gradient (measured), so that bound is 0.4,
// while the full-resolution seg head's gradient stays within 2%.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, manualSeed, randn, randint, autocast, noGrad, F } from '../../src/engine/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../../src/nn/index.js';
import { relativeError } from '../helpers/numeric.js';

test('bf16 conv, transposed conv and fused norm stay within 1% of float32', () => {
  tidy(() => {
    manualSeed(2);
    const x = randn([2, 8, 8, 8, 8]);
    const w = randn([16, 8, 3, 3, 3]).mul(0.1);
    const wt = randn([8, 4, 2, 2, 2]).mul(0.1);
    const ref = F.conv(x, w, null, { padding: 1 });
    const low = autocast('bfloat16', () => F.conv(x, w, null, { padding: 1 }));
    assert.equal(low.dtype, 'bfloat16');
    assert.ok(relativeError(low, ref) < 0.01, `conv: ${relativeError(low, ref)}`);
    const t32 = F.convTranspose(x, wt, null, { stride: 2 });
    const t16 = autocast('bfloat16', () => F.convTranspose(x, wt, null, { stride: 2 }));
    assert.ok(relativeError(t16, t32) < 0.01, `conv_transpose: ${relativeError(t16, t32)}`);
    const n32 = F.instanceNormLeakyRelu(ref, null, null);
    const n16 = F.instanceNormLeakyRelu(low, null, null);
    assert.equal(n16.dtype, 'bfloat16');
    assert.ok(relativeError(n16, n32) < 0.02, `norm: ${relativeError(n16, n32)}`);
  });
});

test('a U-Net forward and its weight gradients under bf16 autocast stay close to float32', () => {
  tidy(() => {
    manualSeed(4);
    const net = new UNet(defaultPlainSpec([32, 32, 32], 1, 3));
    const x = randn([2, 1, 32, 32, 32]);
    const y = randint(0, 3, [2, 32, 32, 32]);
    const ref = noGrad(() => net.forward(x));
    const low = noGrad(() => autocast('bfloat16', () => net.forward(x)));
    const err = relativeError(low, ref);
    assert.ok(err < 0.05, `U-Net logits: relative error ${err}`);
    const gradOf = (bf16: boolean) =>
      tidy(() => {
        for (const p of net.parameters()) p.setGrad(null);
        const outs = autocast(bf16 ? 'bfloat16' : null, () => net.forwardAll(x));
        deepSupervisionLoss(outs, y).backward();
        const deep = net.encoder.stages.items[1]!.namedParameters()[0]![1].grad!;
        const head = net.decoder.segLayers.items[net.decoder.segLayers.items.length - 1]!.weight.grad!;
        assert.equal(deep.dtype, 'float32', 'weights keep float32 gradients');
        return [deep, head];
      });
    const g32 = gradOf(false);
    const g16 = gradOf(true);
    const deepErr = relativeError(g16[0]!, g32[0]!);
    const headErr = relativeError(g16[1]!, g32[1]!);
    assert.ok(deepErr < 0.4, `stage-1 weight gradient: relative error ${deepErr}`);
    assert.ok(headErr < 0.02, `seg-head weight gradient: relative error ${headErr}`);
    net.dispose();
  });
});
