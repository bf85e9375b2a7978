// Augmentation against independent computations: the rotation/scaling resampling against
// scipy.ndimage.affine_transform (linear for images, nearest for labels, zeros outside), and each
// intensity transform against its formula. The random parameters are replayed here from the same
// Rng stream, in the order augment.ts draws them (rotation gate, scale, angles, then per transform a
// gate and its parameters); a change of that order fails these tests loudly rather than silently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, tidy } from '../../src/engine/index.js';
import { NormalTable, Rng } from '../../src/common/random.js';
import { augmentBatch } from '../../src/train/augment.js';
import { assertClose, seededValues } from '../helpers/numeric.js';
import { torchAvailable, torchRef, type RefArray } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch/scipy (/usr/bin/python3) is not installed';

/** The affine matrix (grid_sample's x, y, z order, no translation) augment.ts draws after its gate. */
function replayTheta(nd: number, rng: Rng): number[][] {
  const s = rng.uniform(0.7, 1.4);
  if (nd === 2) {
    const a = rng.uniform(-Math.PI, Math.PI) * (30 / 180);
    return [
      [Math.cos(a) / s, -Math.sin(a) / s],
      [Math.sin(a) / s, Math.cos(a) / s],
    ];
  }
  const a = rng.uniform(-0.52, 0.52);
  const b = rng.uniform(-0.26, 0.26);
  const [ca, sa, cb, sb] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b)];
  return [
    [ca / s, (-sa * cb) / s, (sa * sb) / s],
    [sa / s, (ca * cb) / s, (-ca * sb) / s],
    [0, sb / s, cb / s],
  ];
}

function int64(values: number[], shape: number[]): Tensor {
  return Tensor.fromArray(BigInt64Array.from(values.map((v) => BigInt(v))), shape, 'int64');
}

for (const spatial of [
  [12, 10, 14],
  [13, 17],
]) {
  const nd = spatial.length;
  test(
    `rotation + scaling (${nd}D ${spatial.join('×')}) resamples as scipy.ndimage.affine_transform`,
    { skip },
    () => {
      // seeds whose rotation gate fires (first draw < 0.2)
      const seeds: number[] = [];
      for (let s = 1; seeds.length < 3; s++) if (new Rng(s).next() < 0.2) seeds.push(s);
      const n = spatial.reduce((a, b) => a * b, 1);
      const runs = seeds.map((seed) => {
        const img = Float32Array.from(seededValues(n, seed + 100));
        const lab = Array.from(seededValues(n, seed + 200), (v) => Math.floor((v + 1) * 2) % 4);
        const replay = new Rng(seed);
        replay.next();
        return { seed, img, lab, theta: replayTheta(nd, replay) };
      });
      // scipy for every seed in one Python process
      const inputs: Record<string, RefArray> = {};
      runs.forEach((run, k) => {
        inputs[`img${k}`] = { data: Float64Array.from(run.img), shape: [1, 1, ...spatial] };
        inputs[`lab${k}`] = {
          data: BigInt64Array.from(run.lab.map((v) => BigInt(v))),
          shape: [1, ...spatial],
        };
      });
      const ref = torchRef(
        `
from scipy.ndimage import affine_transform
S = np.array(${JSON.stringify([...spatial].reverse())}, dtype=float)
for k, M in enumerate(${JSON.stringify(runs.map((run) => run.theta))}):
    M = np.array(M)                                 # rows/cols in (x, y, z) = reversed array axes
    # align_corners=False: u = (2i + 1)/S - 1 (output), j = ((v + 1) S - 1)/2 (input), v = M u
    A = M * S[:, None] / S[None, :]
    c = ((M @ (1 / S - 1)) + 1) * S / 2 - 0.5
    P = list(reversed(range(len(S))))               # back to array axis order
    A, c = A[np.ix_(P, P)], c[P]
    img = T['img%d' % k].numpy()[0, 0]; lab = T['lab%d' % k].numpy()[0].astype(float)
    out['img%d' % k] = torch.from_numpy(affine_transform(img, A, c, order=1, mode='grid-constant', cval=0.0))
    out['lab%d' % k] = torch.from_numpy(affine_transform(lab, A, c, order=0, mode='grid-constant', cval=0.0))
`,
        inputs,
      );
      runs.forEach(({ seed, img, lab }, k) => {
        tidy(() => {
          const x = Tensor.fromArray(img, [1, 1, ...spatial]);
          const y = int64(lab, [1, ...spatial]);
          // mirroring off, no intensity channel: the spatial transform alone
          const out = augmentBatch(x, y, new Rng(seed), { mirrorAxes: [], imageChannels: 0 });
          const r = { img: ref[`img${k}`], lab: ref[`lab${k}`] };
          assertClose(out.x, r.img!.data, { rtol: 1e-4, atol: 1e-4, what: `image, seed ${seed}` });
          // nearest neighbour: float32 vs float64 coordinates may round a voxel at an exact half
          // differently; allow 0.5% of the voxels
          const got = out.y.toArray() as BigInt64Array;
          let differ = 0;
          got.forEach((v, i) => {
            if (Number(v) !== r.lab!.data[i]) differ++;
          });
          assert.ok(differ <= 0.005 * n, `labels, seed ${seed}: ${differ} of ${n} differ`);
          // and the transform did something (not the identity)
          const moved = Array.from(img).filter(
            (v, i) => Math.abs(v - (out.x.toArray() as Float32Array)[i]!) > 1e-3,
          );
          assert.ok(moved.length > n / 4, `seed ${seed}: the image barely changed`);
        });
      });
    },
  );
}

/** A transform that fired, as a formula on the image's channels (each a flat array). */
type Step = { name: string; apply: (x: Float64Array[]) => Float64Array[] };

const SHAPE = [6, 5, 7];
const N = SHAPE.reduce((a, b) => a * b, 1);

/**
 * Replays the intensity draws of augment.ts for an image of `channels` channels and returns the
 * transforms that fire, as formulas: brightness, contrast and gamma draw per channel (channel 0
 * first), noise draws one sigma for all channels, blur and low resolution draw nothing per channel.
 */
function replayIntensity(rng: Rng, channels = 1): Step[] {
  const steps: Step[] = [];
  const each = <T>(draw: () => T): T[] => Array.from({ length: channels }, draw);
  if (rng.next() < 0.1) {
    const sigma = rng.uniform(0, 0.1);
    const fork = rng.fork('noise');
    steps.push({
      name: 'noise',
      apply: (xs) => {
        const noise = new Float32Array(xs.length * N);
        new NormalTable(fork).fill(noise, fork, sigma);
        return xs.map((x, c) => x.map((v, i) => v + noise[c * N + i]!));
      },
    });
  }
  if (rng.next() < 0.15) {
    const f = each(() => rng.uniform(0.75, 1.25));
    steps.push({ name: 'brightness', apply: (xs) => xs.map((x, c) => x.map((v) => v * f[c]!)) });
  }
  if (rng.next() < 0.15) {
    const f = each(() => rng.uniform(0.75, 1.25));
    steps.push({
      name: 'contrast',
      apply: (xs) =>
        xs.map((x, c) => {
          const m = x.reduce((a, b) => a + b, 0) / x.length;
          return x.map((v) => (v - m) * f[c]! + m);
        }),
    });
  }
  if (rng.next() < 0.1) steps.push({ name: 'blur', apply: (xs) => xs.map(boxBlur) });
  if (rng.next() < 0.125) {
    const f = rng.uniform(1, 2);
    steps.push({ name: 'lowres', apply: (xs) => xs.map((x) => lowRes(x, f)) });
  }
  if (rng.next() < 0.3) {
    const g = each(() => (rng.next() < 0.5 ? rng.uniform(0.7, 1) : rng.uniform(1, 1.5)));
    steps.push({
      name: 'gamma',
      apply: (xs) =>
        xs.map((x, c) => {
          const lo = Math.min(...x);
          const hi = Math.max(...x);
          return x.map((v) => ((v - lo) / (hi - lo)) ** g[c]! * (hi - lo) + lo);
        }),
    });
  }
  return steps;
}

/** Mean of the 3×3×3 neighbourhood, indices clamped at the borders (edge replication). */
function boxBlur(x: Float64Array): Float64Array {
  const [D, H, W] = SHAPE as [number, number, number];
  const at = (z: number, y: number, w: number) =>
    x[
      (Math.min(D - 1, Math.max(0, z)) * H + Math.min(H - 1, Math.max(0, y))) * W +
        Math.min(W - 1, Math.max(0, w))
    ]!;
  const out = new Float64Array(x.length);
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let w = 0; w < W; w++) {
        let s = 0;
        for (let dz = -1; dz <= 1; dz++)
          for (let dy = -1; dy <= 1; dy++) for (let dw = -1; dw <= 1; dw++) s += at(z + dz, y + dy, w + dw);
        out[(z * H + y) * W + w] = s / 27;
      }
  return out;
}

/** Nearest down to round(s / f), trilinear back up (half-pixel centres): PyTorch's interpolate. */
function lowRes(x: Float64Array, f: number): Float64Array {
  const small = SHAPE.map((s) => Math.max(1, Math.round(s / f)));
  const r = torchRef(
    `
x = T['x'].float()
s = F.interpolate(x, size=${JSON.stringify(small)}, mode='nearest')
out['y'] = F.interpolate(s, size=${JSON.stringify(SHAPE)}, mode='trilinear', align_corners=False)
`,
    { x: { data: x, shape: [1, 1, ...SHAPE] } },
  );
  return r.y!.data;
}

/** The first seeds (rotation off, mirroring off) whose intensity draws fire exactly `names`. */
function seedsFiring(names: string[], count: number, channels = 1): number[] {
  const found: number[] = [];
  for (let s = 1; found.length < count && s < 1_000_000; s++) {
    const fired = replayIntensity(new Rng(s), channels).map((st) => st.name);
    if (fired.join() === names.join()) found.push(s);
  }
  return found;
}

for (const names of [
  ['noise'],
  ['brightness'],
  ['contrast'],
  ['blur'],
  ['lowres'],
  ['gamma'],
  ['brightness', 'contrast', 'gamma'],
  ['noise', 'blur', 'lowres'],
]) {
  test(
    `intensity: ${names.join(' → ')} equals its formula`,
    { skip: names.includes('lowres') ? skip : false },
    () => {
      for (const seed of seedsFiring(names, 2)) {
        tidy(() => {
          const input = seededValues(N, seed, 1.5).map((v) => v + 0.3);
          const x = Tensor.fromArray(Float32Array.from(input), [1, 1, ...SHAPE]);
          const y = Tensor.fromArray(new BigInt64Array(N), [1, ...SHAPE], 'int64');
          const out = augmentBatch(x, y, new Rng(seed), { rotation: false, mirrorAxes: [] });
          const steps = replayIntensity(new Rng(seed));
          const [expected] = steps.reduce<Float64Array[]>(
            (v, st) => st.apply(v),
            [Float64Array.from(Float32Array.from(input))],
          ) as [Float64Array];
          assertClose(out.x, expected, { rtol: 1e-5, atol: 1e-5, what: `${names.join(',')} seed ${seed}` });
          assert.ok(
            Math.max(...expected.map((v, i) => Math.abs(v - input[i]!))) > 1e-3,
            'the transform changed the image',
          );
          if (names.join() === 'noise') {
            // the noise itself: mean ≈ 0 and standard deviation ≈ the drawn sigma
            const r = new Rng(seed);
            r.next();
            const sigma = r.uniform(0, 0.1);
            const d = (out.x.toArray() as Float32Array).map((v, i) => v - Float32Array.from(input)[i]!);
            const mean = d.reduce((a, b) => a + b, 0) / N;
            const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / N);
            assert.ok(
              Math.abs(mean) < (4 * sigma) / Math.sqrt(N) && Math.abs(sd / sigma - 1) < 0.15,
              `noise mean ${mean} sd ${sd} sigma ${sigma}`,
            );
          }
        });
      }
    },
  );
}

test('brightness, contrast and gamma draw their factor per image channel (as nnU-Net: channels not synchronised)', () => {
  const C = 2;
  for (const names of [['brightness'], ['contrast'], ['gamma'], ['brightness', 'contrast', 'gamma']]) {
    for (const seed of seedsFiring(names, 2, C)) {
      tidy(() => {
        const input = seededValues(C * N, seed, 1.5).map((v) => v + 0.3);
        const x = Tensor.fromArray(Float32Array.from(input), [1, C, ...SHAPE]);
        const y = Tensor.fromArray(new BigInt64Array(N), [1, ...SHAPE], 'int64');
        const out = augmentBatch(x, y, new Rng(seed), { rotation: false, mirrorAxes: [] });
        const channels = Array.from({ length: C }, (_, c) =>
          Float64Array.from(Float32Array.from(input.slice(c * N, (c + 1) * N))),
        );
        const expected = replayIntensity(new Rng(seed), C).reduce<Float64Array[]>(
          (v, st) => st.apply(v),
          channels,
        );
        const flat = new Float64Array(C * N);
        expected.forEach((e, c) => flat.set(e, c * N));
        assertClose(out.x, flat, { rtol: 1e-5, atol: 1e-5, what: `${names.join(',')} seed ${seed}` });
        // the channels moved differently: the change of channel 0 is not the change of channel 1
        const change = expected.map((e, c) => e.map((v, i) => v - channels[c]![i]!));
        const apart = Math.max(...change[0]!.map((d, i) => Math.abs(d - change[1]![i]!)));
        assert.ok(apart > 1e-3, `${names.join(',')} seed ${seed}: both channels changed alike`);
      });
    }
  }
});
