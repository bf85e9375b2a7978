// The faster sliding window (issue 11) against the previous release's, kept verbatim in
// slidingWindowBaseline.ts: the same logits, bit for bit, on a real (tiny) U-Net — 3D and 2D, with
// and without mirroring, bf16 autocast, images smaller than the patch (padded), batches that do
// not divide the window count, several steps. Bit-equality is asserted (not a tolerance): the
// network's passes are the same calls, and the accumulation the same float32 products and sums.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, manualSeed, tidy, type AutocastDType } from '../../src/engine/index.js';
import { UNet, type UNetSpec } from '../../src/nn/index.js';
import { slidingWindowLogits, type SlidingWindowOptions } from '../../src/infer/slidingWindow.js';
import { slidingWindowLogitsBaseline } from './slidingWindowBaseline.js';
import { seededValues } from '../helpers/numeric.js';

function tinyUNet(dims: 2 | 3, inputChannels: number, numClasses: number): UNet {
  const k = new Array<number>(dims).fill(3);
  const net = new UNet({
    architecture: 'plain',
    dims,
    inputChannels,
    numClasses,
    features: [4, 8],
    kernelSizes: [k, k],
    strides: [new Array<number>(dims).fill(1), new Array<number>(dims).fill(2)],
    encoderBlocks: [1, 1],
    decoderConvs: [1],
    deepSupervision: false,
  } satisfies UNetSpec);
  net.eval();
  return net;
}

function image(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(Float32Array.from(seededValues(n, seed, 2)), shape);
}

function assertSame(net: UNet, img: Tensor, o: SlidingWindowOptions, what: string): void {
  const before = slidingWindowLogitsBaseline(net, img, o);
  const after = slidingWindowLogits(net, img, o);
  try {
    assert.deepEqual(after.shape, before.shape, what);
    const a = after.toArray() as Float32Array;
    const b = before.toArray() as Float32Array;
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
    assert.equal(differ, 0, `${what}: ${differ} of ${a.length} logits differ`);
    // and the label maps, as prediction uses them
    assert.deepEqual(
      tidy(() => after.argmax(0).toArray()),
      tidy(() => before.argmax(0).toArray()),
      what,
    );
  } finally {
    before.dispose();
    after.dispose();
  }
}

test('3D: the same logits as the previous sliding window (mirroring, bf16, padding, odd batches, steps)', () => {
  manualSeed(3);
  const net = tinyUNet(3, 2, 3);
  const cases: { shape: number[]; patch: number[]; extra: Partial<SlidingWindowOptions> }[] = [
    { shape: [2, 13, 18, 21], patch: [8, 8, 12], extra: {} },
    { shape: [2, 13, 18, 21], patch: [8, 8, 12], extra: { batch: 3 } },
    { shape: [2, 13, 18, 21], patch: [8, 8, 12], extra: { step: 0.75, batch: 1 } },
    { shape: [2, 13, 18, 21], patch: [8, 8, 12], extra: { mirrorAxes: [0, 1, 2] } },
    { shape: [2, 13, 18, 21], patch: [8, 8, 12], extra: { mirrorAxes: [2], batch: 4 } },
    { shape: [2, 6, 18, 9], patch: [8, 8, 12], extra: { mirrorAxes: [0, 1] } }, // padded on two axes
  ];
  for (const [i, c] of cases.entries()) {
    const img = image(c.shape, 10 + i);
    for (const autocast of [null, 'bfloat16'] as (AutocastDType | null)[]) {
      assertSame(
        net,
        img,
        { patch: c.patch, numClasses: 3, autocast, ...c.extra },
        `case ${i} ${autocast ?? 'fp32'}`,
      );
    }
    img.dispose();
  }
  net.dispose();
});

test('2D: the same logits as the previous sliding window', () => {
  manualSeed(4);
  const net = tinyUNet(2, 1, 4);
  const img = image([1, 23, 30], 7);
  assertSame(net, img, { patch: [12, 16], numClasses: 4 }, '2D');
  assertSame(net, img, { patch: [12, 16], numClasses: 4, mirrorAxes: [0, 1], batch: 3 }, '2D mirrored');
  img.dispose();
  net.dispose();
});
