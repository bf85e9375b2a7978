// The background crop (a plan's `crop: "background"`): data published already normalised keeps a
// constant background that is not 0 (the DeepMedic BraTS copy: −3.16 / −2.75 outside the brain).
// Cropping to what differs from that background must give exactly what nnU-Net's non-zero crop gives
// on the same data with a zero background: the same box, the same mask-normalised values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy } from '../../src/engine/index.js';
import { backgroundValues, cropBox, preprocessCase } from '../../src/preprocess/index.js';
import { backgroundValuesArray, foregroundBBox } from '../../src/deploy/arrays.js';
import { preprocessArrays } from '../../src/deploy/preprocess.js';
import { assertClose, seededValues } from '../helpers/numeric.js';

const shape = [14, 16, 12];
const [D, H, W] = shape as [number, number, number];
const n = D * H * W;
/** The "brain": a box of voxels inside the volume. */
const inBrain = (z: number, y: number, x: number) => z >= 3 && z < 11 && y >= 2 && y < 13 && x >= 4 && x < 10;

/** Two channels: noise (never exactly 0 or the background) inside the brain, `bg[c]` outside. */
function head(bg: number[]): Float32Array {
  const noise = seededValues(2 * n, 11);
  const out = new Float32Array(2 * n);
  for (let c = 0; c < 2; c++)
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = (z * H + y) * W + x;
          out[c * n + i] = inBrain(z, y, x) ? 5 + c + Math.abs(noise[c * n + i]!) : bg[c]!;
        }
  return out;
}

const plan = {
  targetSpacing: [1, 1, 1],
  normalization: [{ scheme: 'zscore' as const }, { scheme: 'zscore' as const }],
  numClasses: 2,
};

test("the border's majority value is the background: the crop finds the brain box; no majority means 0", () => {
  tidy(() => {
    const img = Tensor.fromArray(head([-3.16, -2.75]), [2, ...shape]);
    // float32's −3.16, read back exactly
    assert.deepEqual(backgroundValues(img, 'background'), [Math.fround(-3.16), Math.fround(-2.75)]);
    assert.deepEqual(backgroundValues(img, 'nonzero'), [0, 0]);
    const want = [
      [3, 11],
      [2, 13],
      [4, 10],
    ];
    assert.deepEqual(cropBox(img, 'background').box, want);
    // the non-zero rule keeps everything: the background is not 0
    assert.deepEqual(
      cropBox(img, 'nonzero').box,
      shape.map((s) => [0, s]),
    );
    // the brain touching a face with a few voxels (as BraTS pat0006's bottom slice) keeps the rule
    const data = head([-3.16, -2.75]);
    for (let x = 5; x < 8; x++) data[(0 * H + 6) * W + x] = 9; // channel 0, z = 0
    const touching = Tensor.fromArray(data, [2, ...shape]);
    assert.deepEqual(backgroundValues(touching, 'background'), [Math.fround(-3.16), Math.fround(-2.75)]);
    assert.deepEqual(cropBox(touching, 'background').box, [[0, 11], ...want.slice(1)]);
    // a border of noise (no value on more than half of it) has no background: 0, as nnU-Net's rule
    const noisy = head([-3.16, -2.75]);
    const noise = seededValues(n, 5);
    for (let i = 0; i < n; i++) if (i % 4 !== 0) noisy[i] = noise[i]!;
    assert.deepEqual(backgroundValues(Tensor.fromArray(noisy, [2, ...shape]), 'background'), [
      0,
      Math.fround(-2.75),
    ]);
    // the array path (ONNX Runtime, browser) agrees
    const v = { data: head([-3.16, -2.75]), channels: 2, shape };
    assert.deepEqual(backgroundValuesArray(v, 'background'), [Math.fround(-3.16), Math.fround(-2.75)]);
    assert.deepEqual(foregroundBBox(v, backgroundValuesArray(v, 'background')), want);
    assert.deepEqual(backgroundValuesArray({ data: noisy, channels: 2, shape }, 'background'), [
      0,
      Math.fround(-2.75),
    ]);
    const touchingBackground = backgroundValuesArray({ data, channels: 2, shape }, 'background');
    assert.deepEqual(touchingBackground, backgroundValues(touching, 'background'));
    assert.deepEqual(foregroundBBox({ data, channels: 2, shape }, touchingBackground), [
      [0, 11],
      ...want.slice(1),
    ]);
  });
});

test('background crop of a −3.16 background = non-zero crop of the same head on 0: box and values', () => {
  tidy(() => {
    const shifted = preprocessCase(Tensor.fromArray(head([-3.16, -2.75]), [2, ...shape]), null, [1, 1, 1], {
      ...plan,
      crop: 'background',
    });
    const zero = preprocessCase(Tensor.fromArray(head([0, 0]), [2, ...shape]), null, [1, 1, 1], {
      ...plan,
      crop: 'nonzero',
    });
    assert.deepEqual(shifted.record, zero.record);
    // the crop took away more than a quarter: z-score inside the brain, 0 outside (nnU-Net's mask rule)
    assert.deepEqual(shifted.image.shape, [2, 8, 11, 6]);
    assertClose(shifted.image.toArray() as Float32Array, zero.image.toArray() as Float32Array, {
      atol: 1e-6,
      what: 'background vs nonzero crop',
    });
    // inside the brain each channel has mean 0 and standard deviation 1
    for (let c = 0; c < 2; c++) {
      const ch = shifted.image.select(0, c);
      assert.ok(Math.abs(ch.mean().item()) < 1e-5);
      assert.ok(Math.abs(ch.std().item() - 1) < 1e-5);
    }
    // plans without `crop` keep the old rule: nothing cropped, whole-volume z-score
    const legacy = preprocessCase(
      Tensor.fromArray(head([-3.16, -2.75]), [2, ...shape]),
      null,
      [1, 1, 1],
      plan,
    );
    assert.deepEqual(legacy.record.croppedShape, shape);
  });
});

test('the array preprocessing (ONNX Runtime, browser) follows the background rule as libtorch does', () => {
  const data = head([-3.16, -2.75]);
  const spacing = [1.2, 0.9, 1];
  const targetSpacing = [1, 1, 1.1];
  for (const crop of ['background', 'nonzero'] as const) {
    const ref = tidy(() => {
      const p = preprocessCase(Tensor.fromArray(data, [2, ...shape]), null, spacing, {
        ...plan,
        targetSpacing,
        crop,
      });
      return { record: p.record, image: p.image.toArray() as Float32Array };
    });
    const got = preprocessArrays({ data, channels: 2, shape }, spacing, {
      targetSpacing,
      normalization: plan.normalization,
      imageInterpolation: 'linear',
      crop,
    });
    assert.deepEqual(got.record, ref.record, crop);
    assertClose(got.image.data, ref.image, { atol: 1e-4, rtol: 1e-4, what: `array path, ${crop}` });
  }
});

test('a 2D image stored with one slice: the slice axis is no border, the in-plane border is', () => {
  tidy(() => {
    const [h, w] = [9, 10];
    const data = new Float32Array(h * w).fill(-1.5);
    for (let y = 3; y < 6; y++) for (let x = 2; x < 8; x++) data[y * w + x] = 4 + y + x;
    const img = Tensor.fromArray(data, [1, 1, h, w]);
    assert.deepEqual(backgroundValues(img, 'background'), [-1.5]);
    const want = [
      [0, 1],
      [3, 6],
      [2, 8],
    ];
    assert.deepEqual(cropBox(img, 'background').box, want);
    const v = { data, channels: 1, shape: [1, h, w] };
    assert.deepEqual(backgroundValuesArray(v, 'background'), [-1.5]);
    assert.deepEqual(foregroundBBox(v, [-1.5]), want);
    // majority, not unanimity: one stray border voxel of 38 keeps -1.5
    data[0] = 3;
    assert.deepEqual(backgroundValues(Tensor.fromArray(data, [1, 1, h, w]), 'background'), [-1.5]);
    assert.deepEqual(backgroundValuesArray({ data, channels: 1, shape: [1, h, w] }, 'background'), [-1.5]);
    // too small to have an inside anywhere: no background but 0
    const tiny = Tensor.fromArray(new Float32Array(8).fill(2), [1, 2, 2, 2]);
    assert.deepEqual(backgroundValues(tiny, 'background'), [0]);
    assert.deepEqual(
      backgroundValuesArray(
        { data: new Float32Array(8).fill(2), channels: 1, shape: [2, 2, 2] },
        'background',
      ),
      [0],
    );
  });
});
