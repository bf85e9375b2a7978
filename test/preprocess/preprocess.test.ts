// Preprocessing: crop/uncrop, resampling (isotropic and anisotropic), normalisation, and the inverse
// that must put a prediction back exactly over the original image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy } from '../../src/engine/index.js';
import {
  nonzeroBBox,
  cropTo,
  uncrop,
  resampleImage,
  resampleLabels,
  resampledShape,
  separateAxis,
  normalizeChannel,
  preprocessCase,
  revertLabels,
} from '../../src/preprocess/index.js';
import { percentileSorted, intensityStats } from '../../src/plan/fingerprint.js';
import { assertClose, seededValues } from '../helpers/numeric.js';
import { execFileSync } from 'node:child_process';

/** A [z, y, x] label map with an ellipsoid (label 1) containing a smaller one (label 2). */
function ellipsoids(shape: number[], c: number[], r: number[]): BigInt64Array {
  const [D, H, W] = shape as [number, number, number];
  const out = new BigInt64Array(D * H * W);
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot((z - c[0]!) / r[0]!, (y - c[1]!) / r[1]!, (x - c[2]!) / r[2]!);
        out[(z * H + y) * W + x] = d < 0.5 ? 2n : d < 1 ? 1n : 0n;
      }
  return out;
}

function dice(a: Tensor, b: Tensor, label: number): number {
  return tidy(() => {
    const p = a.eq(label);
    const r = b.eq(label);
    return (2 * p.logicalAnd(r).countNonzero()) / (p.countNonzero() + r.countNonzero());
  });
}

test('crop to the non-zero box and uncrop restore the volume exactly', () => {
  tidy(() => {
    const data = new Float32Array(2 * 6 * 7 * 8);
    data[(0 * 6 * 7 + 2 * 7 + 3) * 8 + 4] = 5; // channel 0 at (2, 3, 4)
    data[(1 * 6 * 7 + 4 * 7 + 1) * 8 + 6] = -1; // channel 1 at (4, 1, 6)
    const img = Tensor.fromArray(data, [2, 6, 7, 8]);
    const box = nonzeroBBox(img);
    assert.deepEqual(box, [
      [2, 5],
      [1, 4],
      [4, 7],
    ]);
    const c = cropTo(img, box);
    assert.deepEqual(c.shape, [2, 3, 3, 3]);
    assert.deepEqual(uncrop(c, box, [6, 7, 8]).toArray(), data);
    // an all-zero image keeps its whole extent
    assert.deepEqual(nonzeroBBox(Tensor.fromArray(new Float32Array(8), [1, 2, 2, 2])), [
      [0, 2],
      [0, 2],
      [0, 2],
    ]);
  });
});

test('linear resampling reproduces a linear ramp; labels resample by nearest and one-hot linear', () => {
  tidy(() => {
    const [D, H, W] = [6, 8, 10];
    const ramp = new Float32Array(D * H * W);
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ramp[(z * H + y) * W + x] = 2 * z + 0.5 * y - x;
    const img = Tensor.fromArray(ramp, [1, D, H, W]);
    const size = resampledShape([D, H, W], [1, 1, 1], [0.5, 0.5, 0.5]);
    assert.deepEqual(size, [12, 16, 20]);
    const up = resampleImage(img, size, [1, 1, 1]);
    // Away from the borders (where linear interpolation clamps) values follow the ramp at the new
    // voxel centres: original coordinate = (i + 0.5) * 0.5 - 0.5.
    const a = up.toArray() as Float32Array;
    for (let z = 2; z < 10; z++)
      for (let y = 2; y < 14; y++)
        for (let x = 2; x < 18; x++) {
          const oz = (z + 0.5) / 2 - 0.5;
          const oy = (y + 0.5) / 2 - 0.5;
          const ox = (x + 0.5) / 2 - 0.5;
          assert.ok(Math.abs(a[(z * 16 + y) * 20 + x]! - (2 * oz + 0.5 * oy - ox)) < 1e-4);
        }
    const labels = Tensor.fromArray(ellipsoids([D, H, W], [3, 4, 5], [2.5, 3.5, 4]), [D, H, W]);
    const near = resampleLabels(labels, size, [1, 1, 1], 3, 'nearest');
    const lin = resampleLabels(labels, size, [1, 1, 1], 3, 'linear');
    assert.equal(near.dtype, 'int64');
    // nearest ×2 repeats every voxel twice along each axis
    const n = near.toArray() as BigInt64Array;
    const l0 = labels.toArray() as BigInt64Array;
    for (let i = 0; i < 200; i++) {
      const z = i % 12;
      const y = (i * 7) % 16;
      const x = (i * 13) % 20;
      assert.equal(n[(z * 16 + y) * 20 + x], l0[((z >> 1) * H + (y >> 1)) * W + (x >> 1)]);
    }
    assert.ok(dice(lin, near, 1) > 0.8);
  });
});

test('anisotropic data: the coarse axis is found and resampled separately', () => {
  assert.equal(separateAxis([5, 0.8, 0.8]), 0);
  assert.equal(separateAxis([1, 1, 1.2]), -1);
  assert.equal(separateAxis([3, 3, 0.5]), -1, 'two coarse axes: no single out-of-plane axis');
  tidy(() => {
    // slices along z 4 mm apart, each slice a different constant: nearest along z keeps them unmixed
    const [D, H, W] = [4, 6, 6];
    const v = new Float32Array(D * H * W);
    for (let z = 0; z < D; z++) v.fill(z * 10, z * H * W, (z + 1) * H * W);
    const out = resampleImage(Tensor.fromArray(v, [1, D, H, W]), [8, 9, 9], [4, 1, 1]);
    const vals = new Set([...(out.toArray() as Float32Array)].map((x) => Math.round(x * 1000) / 1000));
    assert.deepEqual(
      [...vals].sort((a, b) => a - b),
      [0, 10, 20, 30],
    );
  });
});

test('normalisation: CT clip + dataset z-score, per-image z-score inside the mask', () => {
  tidy(() => {
    const vals = seededValues(1000, 3, 500);
    const t = Tensor.fromArray(Float32Array.from(vals), [10, 10, 10]);
    const ct = normalizeChannel(t, { scheme: 'ct', ct: { mean: 10, std: 50, p005: -300, p995: 400 } });
    assertClose(
      ct,
      Array.from(vals, (v) => (Math.min(400, Math.max(-300, Math.fround(v))) - 10) / 50),
      { rtol: 1e-5, atol: 1e-5 },
    );
    const mask = t.gt(0);
    const z = normalizeChannel(t, { scheme: 'zscore', useMask: true }, mask);
    const inside = (z.toArray() as Float32Array).filter((_, i) => vals[i]! > 0);
    const mean = inside.reduce((a, b) => a + b, 0) / inside.length;
    const sd = Math.sqrt(inside.reduce((a, b) => a + (b - mean) ** 2, 0) / (inside.length - 1));
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-4);
    assert.ok((z.toArray() as Float32Array).every((v, i) => vals[i]! > 0 || v === 0));
    const r = normalizeChannel(t, { scheme: 'rescale' });
    assert.ok(Math.abs(r.amin().item()) < 1e-6 && Math.abs(r.amax().item() - 1) < 1e-6);
  });
});

test('preprocess then revert: the label map overlays the original (anisotropic, cropped)', () => {
  tidy(() => {
    const shape = [12, 40, 36];
    const spacing = [3, 0.8, 0.9];
    const lab = Tensor.fromArray(ellipsoids(shape, [6, 20, 17], [4, 12, 10]), shape);
    // image: the label as intensity plus a non-zero frame inside a zero border (cropping has work)
    const img = tidy(() => {
      const x = lab.to('float32').mul(100).add(50);
      const frame = Tensor.fromArray(new Float32Array(shape[0]! * shape[1]! * shape[2]!), shape);
      return x
        .mul(
          cropTo(frame.add(1).unsqueeze(0), [
            [0, 12],
            [0, 40],
            [0, 36],
          ]).squeeze(0),
        )
        .unsqueeze(0);
    });
    const plan = {
      targetSpacing: [1.5, 1, 1],
      normalization: [{ scheme: 'zscore' as const }],
      numClasses: 3,
      labelInterpolation: 'linear' as const,
    };
    const p = preprocessCase(img, lab, spacing, plan);
    assert.deepEqual(
      p.record.resampledShape,
      resampledShape(p.record.croppedShape, spacing, plan.targetSpacing),
    );
    assert.deepEqual(p.image.shape.slice(1), p.labels!.shape);
    const back = revertLabels(p.labels!, p.record, 3, plan.targetSpacing);
    assert.deepEqual(back.shape, shape);
    assert.ok(dice(back, lab, 1) > 0.9, `outer ${dice(back, lab, 1)}`);
    assert.ok(dice(back, lab, 2) > 0.85, `inner ${dice(back, lab, 2)}`);
  });
});

test('percentiles follow numpy (linear interpolation)', () => {
  const vals = Float32Array.from(seededValues(537, 9, 100));
  const sorted = Float64Array.from(vals).sort();
  let ref: number[] | null = null;
  try {
    ref = JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        [
          '-c',
          `import numpy as np, json, sys; a = np.array(json.loads(sys.stdin.read()), dtype=np.float64); print(json.dumps([float(np.percentile(a, q)) for q in (0.5, 50, 99.5)]))`,
        ],
        { input: JSON.stringify([...vals]), encoding: 'utf8' },
      ),
    ) as number[];
  } catch {
    ref = null;
  }
  const mine = [0.5, 50, 99.5].map((q) => percentileSorted(sorted, q));
  if (ref) assertClose(mine, ref, { rtol: 1e-9, atol: 1e-9 });
  const s = intensityStats(vals);
  assertClose([s.p005, s.p50, s.p995], mine, { rtol: 1e-6, atol: 1e-6 });
  assert.equal(s.samples, 537);
});
