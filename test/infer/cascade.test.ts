// The crop variant's boxes (margin, smallest size, clipping, merging) and its inference: with a box
// that covers the whole image it gives exactly the full-image prediction; outside its boxes it is
// background; the prior variant's channels are stage 1's one-hot label map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, manualSeed } from '../../src/engine/index.js';
import { UNet } from '../../src/nn/index.js';
import { cascadeBoxes, minimumBoxSize } from '../../src/preprocess/cascadeBoxes.js';
import { predictProbabilities, cascadeProbabilities, type ConfigModel } from '../../src/infer/model.js';
import { priorChannels } from '../../src/preprocess/prior.js';
import type { Configuration, Plans } from '../../src/plan/planner.js';

function mask(shape: number[], boxes: number[][][]): Uint8Array {
  const [D, H, W] = shape as [number, number, number];
  const m = new Uint8Array(D * H * W);
  for (const b of boxes)
    for (let z = b[0]![0]!; z < b[0]![1]!; z++)
      for (let y = b[1]![0]!; y < b[1]![1]!; y++)
        for (let x = b[2]![0]!; x < b[2]![1]!; x++) m[(z * H + y) * W + x] = 1;
  return m;
}

test('cascade boxes: margin in mm, at least the minimum size, clipped, overlapping ones merged', () => {
  const shape = [20, 40, 40];
  const m = mask(shape, [
    [
      [5, 7],
      [10, 14],
      [10, 14],
    ],
    [
      [5, 7],
      [30, 32],
      [30, 32],
    ],
  ]);
  // margin 2 mm at spacing (2, 1, 1): 1 voxel along z, 2 in-plane
  const far = cascadeBoxes(m, shape, { spacing: [2, 1, 1], marginMm: 2, minSize: [1, 1, 1] });
  assert.deepEqual(far, [
    [
      [4, 8],
      [8, 16],
      [8, 16],
    ],
    [
      [4, 8],
      [28, 34],
      [28, 34],
    ],
  ]);
  // a minimum size of 20 in-plane makes them overlap: one union box; z grows to 6 around the centre
  const merged = cascadeBoxes(m, shape, { spacing: [2, 1, 1], marginMm: 2, minSize: [6, 20, 20] });
  assert.deepEqual(merged, [
    [
      [3, 9],
      [2, 40],
      [2, 40],
    ],
  ]);
  // clipped at the image border, still the minimum size
  const edge = mask(shape, [
    [
      [0, 1],
      [0, 1],
      [39, 40],
    ],
  ]);
  assert.deepEqual(cascadeBoxes(edge, shape, { spacing: [1, 1, 1], marginMm: 0, minSize: [4, 8, 8] }), [
    [
      [0, 4],
      [0, 8],
      [32, 40],
    ],
  ]);
  assert.deepEqual(
    cascadeBoxes(new Uint8Array(20 * 40 * 40), shape, {
      spacing: [1, 1, 1],
      marginMm: 5,
      minSize: [1, 1, 1],
    }),
    [],
  );
  assert.deepEqual(minimumBoxSize([8, 16, 16], [2, 1, 1], [1, 0.5, 0.5]), [16, 32, 32]);
});

function model(variant: 'prior' | 'crop' | null, patch: number[]): ConfigModel {
  manualSeed(5);
  const K = 3;
  const config: Configuration = {
    name: variant ? `3d_cascade_${variant}` : '3d_fullres',
    spacing: [1, 1, 1],
    medianShape: [12, 16, 16],
    patch,
    batchSize: 2,
    network: {
      architecture: 'plain',
      dims: 3,
      inputChannels: variant === 'prior' ? 1 + K - 1 : 1,
      numClasses: K,
      features: [4, 8],
      kernelSizes: [
        [3, 3, 3],
        [3, 3, 3],
      ],
      strides: [
        [1, 1, 1],
        [2, 2, 2],
      ],
      encoderBlocks: [1, 1],
      decoderConvs: [1],
      deepSupervision: false,
    },
    normalization: [{ scheme: 'zscore' }],
    imageInterpolation: 'linear',
    labelInterpolation: 'nearest',
    ...(variant ? { cascade: { previousStage: '3d_lowres', variant, marginMm: 1 } } : {}),
  } as Configuration;
  const plans = { labelValues: [0, 1, 2], channelNames: ['MR'] } as unknown as Plans;
  return { name: config.name, plans, config, folds: [0], nets: [new UNet(config.network).eval()] };
}

test('crop variant: one box over the whole image = the full prediction; background outside the boxes', () => {
  const shape = [12, 16, 16];
  const n = shape.reduce((a, b) => a * b, 1);
  const image = Tensor.fromArray(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 2),
    [1, ...shape],
  );
  const crop = model('crop', [8, 8, 8]);
  const full = model(null, [8, 8, 8]);
  // the same weights in both
  full.nets[0]!.loadStateDict(new Map(crop.nets[0]!.stateDict()), false);
  // stage 1 foreground in the middle; the minimum box (a patch of 12 × 16 × 16 mm) is the image
  crop.config.patch = [12, 16, 16];
  full.config.patch = [12, 16, 16];
  const stage1 = tidy(() => {
    const s = new BigInt64Array(n);
    s[(6 * 16 + 8) * 16 + 8] = 1n;
    return Tensor.fromArray(s, shape);
  });
  const a = cascadeProbabilities(crop, image, [1, 1, 1], stage1);
  const b = predictProbabilities(full, image, [1, 1, 1]);
  assert.deepEqual(a.toArray(), b.toArray());
  // a small box: outside it, probability 1 for the background
  crop.config.patch = [4, 4, 4];
  const c = cascadeProbabilities(crop, image, [1, 1, 1], stage1);
  const probs = c.toArray() as Float32Array;
  // box: centre voxel ± margin 1, grown to 4 voxels: z 5..9? check one voxel far away
  const far = (0 * 16 + 0) * 16 + 0;
  assert.equal(probs[far], 1);
  assert.equal(probs[n + far], 0);
  const inside = (6 * 16 + 8) * 16 + 8;
  assert.ok(probs[inside]! < 1, 'inside the box the network decides');
  for (const t of [a, b, c, image, stage1]) t.dispose();
  for (const m of [crop, full]) m.nets[0]!.dispose();
});

test('prior variant: one channel per foreground class, resampled with the image', () => {
  const lab = Tensor.fromArray(
    BigInt64Array.from({ length: 4 * 4 * 4 }, (_, i) => BigInt(i % 3)),
    [4, 4, 4],
  );
  const record = {
    originalShape: [4, 4, 4],
    originalSpacing: [1, 1, 1],
    bbox: [
      [0, 4],
      [1, 3],
      [0, 4],
    ] as [number, number][],
    croppedShape: [4, 2, 4],
    resampledShape: [8, 4, 8],
  };
  const p = priorChannels(lab, record, 3);
  assert.deepEqual(p.shape, [2, 8, 4, 8]);
  const v = p.toArray() as Float32Array;
  const src = lab.toArray() as BigInt64Array;
  // nearest: output voxel (z, y, x) takes input (z/2, 1 + y/2, x/2)
  for (let z = 0; z < 8; z++)
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 8; x++) {
        const cls = Number(src[(Math.floor(z / 2) * 4 + 1 + Math.floor(y / 2)) * 4 + Math.floor(x / 2)]);
        for (let k = 1; k <= 2; k++) assert.equal(v[(k - 1) * 256 + (z * 4 + y) * 8 + x], cls === k ? 1 : 0);
      }
  p.dispose();
  lab.dispose();
});
