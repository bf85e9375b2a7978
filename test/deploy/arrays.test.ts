// The ONNX Runtime path's preprocessing on plain arrays against the libtorch code it reproduces
// (src/preprocess/, src/infer/gaussian.ts): resampling (linear, cubic, anisotropic with nearest
// along the coarse axis, up and down), normalisation schemes, the crop, the inverse, the cascade's
// prior channels, the Gaussian map and the mirroring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy } from '../../src/engine/index.js';
import { resampleImage, preprocessCase, revertProbabilities } from '../../src/preprocess/index.js';
import { priorChannels } from '../../src/preprocess/prior.js';
import { gaussianImportance } from '../../src/infer/gaussian.js';
import { gaussianImportanceArray, windowBoxes } from '../../src/infer/windows.js';
import {
  preprocessArrays,
  priorChannelsArray,
  resampleImageArray,
  revertProbabilitiesArray,
} from '../../src/deploy/preprocess.js';
import { flipSpatial, numel } from '../../src/deploy/arrays.js';
import type { NormalizationPlan } from '../../src/preprocess/normalize.js';
import { assertClose, seededValues } from '../helpers/numeric.js';

const arr = (t: Tensor) => tidy(() => t.float().contiguous().toArray() as Float32Array);

/** A volume [C, ...shape] that is zero on a border (so the crop does something) and smooth-ish inside. */
function volume(C: number, shape: number[], seed: number, border = 2): Float32Array {
  const [D, H, W] = shape as [number, number, number];
  const noise = seededValues(C * D * H * W, seed);
  const out = new Float32Array(C * D * H * W);
  for (let c = 0; c < C; c++)
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = ((c * D + z) * H + y) * W + x;
          const inside =
            z >= border &&
            y >= border + 1 &&
            x >= border &&
            z < D - 1 &&
            y < H - border &&
            x < W - border - 1;
          out[i] = inside ? 100 + 40 * Math.sin(z / 2 + c) * Math.cos(y / 3) + 10 * noise[i]! + x : 0;
        }
  return out;
}

test('resampling: linear, cubic, anisotropic (nearest along the coarse axis), up and down = libtorch', () => {
  const shape = [7, 13, 11];
  const data = volume(2, shape, 1, 0);
  const cases: { size: number[]; spacing: number[]; mode: 'linear' | 'cubic' }[] = [
    { size: [10, 9, 17], spacing: [1, 1, 1], mode: 'linear' },
    { size: [5, 20, 6], spacing: [1.2, 0.9, 1], mode: 'linear' },
    { size: [14, 26, 22], spacing: [1, 1, 1], mode: 'linear' },
    { size: [18, 9, 8], spacing: [4, 1, 1], mode: 'linear' }, // anisotropic: z separate
    { size: [3, 17, 15], spacing: [1, 5, 1], mode: 'linear' }, // anisotropic along y
    { size: [9, 16, 7], spacing: [1, 1, 1], mode: 'cubic' },
    { size: [12, 8, 20], spacing: [3.5, 1, 1], mode: 'cubic' },
  ];
  for (const c of cases) {
    const ref = tidy(() =>
      arr(resampleImage(Tensor.fromArray(data, [2, ...shape]), c.size, c.spacing, c.mode)),
    );
    const got = resampleImageArray({ data, channels: 2, shape }, c.size, c.spacing, c.mode);
    assert.deepEqual(got.shape, c.size);
    assertClose(got.data, ref, {
      atol: 2e-4,
      rtol: 1e-5,
      what: `${c.mode} [${c.size}] spacing [${c.spacing}]`,
    });
  }
});

test('preprocessing (crop, each normalisation, resampling) and its inverse = libtorch', () => {
  const shape = [12, 14, 10];
  const data = volume(2, shape, 3, 2);
  const plans: NormalizationPlan[][] = [
    [{ scheme: 'zscore' }, { scheme: 'zscore', useMask: false }],
    [{ scheme: 'ct', ct: { mean: 90, std: 30, p005: 20, p995: 160 } }, { scheme: 'rescale' }],
    [{ scheme: 'none' }, { scheme: 'zscore', useMask: true }],
  ];
  const spacing = [2.5, 0.8, 1.1];
  for (const [i, normalization] of plans.entries()) {
    for (const imageInterpolation of ['linear', 'cubic'] as const) {
      const targetSpacing = [1.5, 1, 0.9];
      const t = Tensor.fromArray(data, [2, ...shape]);
      const ref = preprocessCase(t, null, spacing, {
        targetSpacing,
        normalization,
        imageInterpolation,
        numClasses: 3,
      });
      const got = preprocessArrays({ data, channels: 2, shape }, spacing, {
        targetSpacing,
        normalization,
        imageInterpolation,
      });
      assert.deepEqual(got.record, { ...ref.record, bbox: ref.record.bbox });
      const what = `plan ${i} ${imageInterpolation}`;
      assertClose(got.image.data, arr(ref.image), { atol: 1e-4, rtol: 1e-4, what });
      // the inverse, on probabilities of the resampled grid
      const K = 3;
      const n = numel(ref.record.resampledShape);
      const p = Float32Array.from(seededValues(K * n, 7 + i), (v) => Math.abs(v));
      const back = tidy(() =>
        arr(
          revertProbabilities(
            Tensor.fromArray(p, [K, ...ref.record.resampledShape]),
            ref.record,
            targetSpacing,
          ),
        ),
      );
      const mine = revertProbabilitiesArray(
        { data: p, channels: K, shape: ref.record.resampledShape },
        got.record,
        targetSpacing,
      );
      assert.deepEqual(mine.shape, shape);
      assertClose(mine.data, back, { atol: 1e-5, what: `${what} inverse` });
      // the cascade's prior channels
      const labels = Uint8Array.from(seededValues(numel(shape), 11), (v) => Math.floor(Math.abs(v) * 3) % 3);
      const refPrior = tidy(() =>
        arr(priorChannels(Tensor.fromArray(Int32Array.from(labels), shape).to('int64'), ref.record, K)),
      );
      assert.deepEqual(priorChannelsArray(labels, got.record, K).data, refPrior, `${what} prior`);
      ref.image.dispose();
      t.dispose();
    }
  }
});

test('Gaussian importance and window positions: the engine-free versions are the same numbers', () => {
  for (const patch of [
    [24, 32, 24],
    [5, 7, 6],
    [64, 48],
    [128, 128, 128],
  ]) {
    const ref = tidy(() => arr(gaussianImportance(patch)));
    assert.deepEqual(gaussianImportanceArray(patch), ref, `patch [${patch}]`);
  }
  assert.deepEqual(windowBoxes([10, 40], [10, 16], 0.5), [
    [0, 0],
    [0, 8],
    [0, 16],
    [0, 24],
  ]);
});

test('mirroring a batch of windows = Tensor.flip', () => {
  const spatial = [3, 4, 5];
  const data = Float32Array.from(seededValues(2 * 3 * numel(spatial), 5));
  for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
    const ref = tidy(() => arr(Tensor.fromArray(data, [2, 3, ...spatial]).flip(...axes.map((a) => a + 2))));
    assert.deepEqual(flipSpatial(data, spatial, axes), ref, `axes ${axes}`);
  }
});
