// Data augmentation on a batch, computed with the engine: rotation and scaling (one affine
// resampling, images linear and labels nearest), mirroring, brightness, contrast, gamma, noise,
// blur and low-resolution simulation. Probabilities follow nnU-Net's defaults roughly.
//
// Brightness, contrast and gamma draw their factor for each image channel on its own (one gate per
// sample, then one draw per channel, channel 0 first), as nnU-Net does: channels of one case differ
// from case to case independently (a FLAIR a little brighter, a T1c not), and a network that only
// ever saw them shifted together learns a fixed relation between them that an unusual case breaks.
// Noise (one sigma), blur and low resolution stay common to the channels. With one channel the
// draws are exactly those of a common factor.
//
// Strength s (AugmentOptions.strength, default 1) scales the augmentation in one way: every
// transform's probability p becomes min(1, s·p) — mirroring's min(0.5, s·0.5), since a flip with
// probability above 1/2 adds no variety, only a bias — while the ranges of the random parameters
// stay as they are. s = 1 is the standard augmentation (bit for bit the same draws), s = 0 none: the
// batch comes back as sampled. Each gate still compares one uniform draw with its (scaled)
// probability, so at s = 1 the Rng stream is exactly the standard augmentation's.
//
// Every random choice comes from the Rng passed in, Gaussian noise included (a table of normals
// drawn from it, not libtorch's global generator): the same Rng state gives the same batch in any
// thread, which is what lets batches be made ahead in worker threads and runs resume exactly.
import { Tensor, tidy, noGrad, F, stack, cat } from '../engine/index.js';
import { NormalTable, type Rng } from '../common/random.js';

export interface AugmentOptions {
  rotation?: boolean;
  mirrorAxes?: number[];
  /**
   * Intensity transforms (noise, brightness, contrast, blur, low resolution, gamma) apply to the
   * first `imageChannels` channels only; spatial ones (rotation/scaling, mirroring) to all. Extra
   * channels after the image ones (a cascade's one-hot prior) keep their values. Default: all.
   */
  imageChannels?: number;
  /** Scales every transform's probability (see the top of this file); 1 default, 0 no augmentation. */
  strength?: number;
}

/** A transform's probability at strength s: min(cap, s · p). */
const scaled = (p: number, s: number, cap = 1): number => Math.min(cap, p * s);

function affineTheta(nd: number, rng: Rng): number[] {
  const s = rng.uniform(0.7, 1.4);
  if (nd === 2) {
    const a = rng.uniform(-Math.PI, Math.PI) * (30 / 180);
    return [Math.cos(a) / s, -Math.sin(a) / s, 0, Math.sin(a) / s, Math.cos(a) / s, 0];
  }
  // rotation about the z axis (in-plane) and a small tilt: enough variety at low cost
  const a = rng.uniform(-0.52, 0.52);
  const b = rng.uniform(-0.26, 0.26);
  const ca = Math.cos(a);
  const sa = Math.sin(a);
  const cb = Math.cos(b);
  const sb = Math.sin(b);
  // grid_sample's coordinate order is (x, y, z)
  const m = [
    [ca, -sa * cb, sa * sb],
    [sa, ca * cb, -ca * sb],
    [0, sb, cb],
  ];
  return m.flatMap((row) => [...row.map((v) => v / s), 0]);
}

/** sigma × N(0, 1) noise shaped like t, from rng alone (a fresh table of normals, then lookups). */
function gaussianNoise(t: Tensor, sigma: number, rng: Rng): Tensor {
  const noise = new Float32Array(t.numel);
  new NormalTable(rng).fill(noise, rng, sigma);
  return Tensor.fromArray(noise, t.shape, 'float32', t.device);
}

/** The intensity transforms on one sample's image channels [1, C, ...]. */
function intensity(xi: Tensor, nd: number, rng: Rng, s: number): Tensor {
  if (rng.next() < scaled(0.1, s)) {
    const sigma = rng.uniform(0, 0.1);
    xi = xi.add(gaussianNoise(xi, sigma, rng.fork('noise')));
  }
  if (rng.next() < scaled(0.15, s)) xi = perChannel(xi, (ch) => ch.mul(rng.uniform(0.75, 1.25)));
  if (rng.next() < scaled(0.15, s)) {
    xi = perChannel(xi, (ch) => {
      // the mean in float64: the same value whatever libtorch's thread count (float32 sums differ
      // in their last bits with the split of the reduction)
      const m = ch.to('float64').mean().item();
      return ch.sub(m).mul(rng.uniform(0.75, 1.25)).add(m);
    });
  }
  if (rng.next() < scaled(0.1, s)) {
    // blur: a separable box of width 3 along the spatial axes (cheap smoothing)
    const k = nd === 3 ? [3, 3, 3] : [3, 3];
    xi = F.avgPool(F.pad(xi, new Array<number>(2 * nd).fill(1), 'replicate'), k, 1);
  }
  if (rng.next() < scaled(0.125, s)) {
    // low resolution: down by up to 2 and back up
    const size = xi.shape.slice(2);
    const f = rng.uniform(1, 2);
    const small = size.map((s) => Math.max(1, Math.round(s / f)));
    xi = F.interpolate(F.interpolate(xi, small, 'nearest'), size, 'linear');
  }
  if (rng.next() < scaled(0.3, s)) {
    // gamma on the channel's [0, 1]-rescaled intensities, then back to its original range
    xi = perChannel(xi, (ch) => {
      const lo = ch.amin().item();
      const hi = ch.amax().item();
      if (!(hi > lo)) return ch;
      const g = rng.next() < 0.5 ? rng.uniform(0.7, 1) : rng.uniform(1, 1.5);
      return ch
        .sub(lo)
        .div(hi - lo)
        .clamp(0, 1)
        .pow(g)
        .mul(hi - lo)
        .add(lo);
    });
  }
  return xi;
}

/** f applied to each channel of xi [1, C, ...] in order (channel 0 first), the results joined. */
function perChannel(xi: Tensor, f: (channel: Tensor) => Tensor): Tensor {
  const channels = xi.shape[1]!;
  if (channels === 1) return f(xi);
  return cat(
    Array.from({ length: channels }, (_, c) => f(xi.narrow(1, c, 1))),
    1,
  );
}

/** Augments x [N, C, ...] and integer labels y [N, ...]; returns new tensors. */
export function augmentBatch(
  x: Tensor,
  y: Tensor,
  rng: Rng,
  o: AugmentOptions = {},
): { x: Tensor; y: Tensor } {
  return tidy(() =>
    noGrad(() => {
      const n = x.shape[0]!;
      const channels = x.shape[1]!;
      const imageChannels = Math.max(0, Math.min(channels, o.imageChannels ?? channels));
      const nd = x.ndim - 2;
      const s = o.strength ?? 1;
      const xs: Tensor[] = [];
      const ys: Tensor[] = [];
      for (let i = 0; i < n; i++) {
        let xi = x.narrow(0, i, 1);
        let yi = y.narrow(0, i, 1);
        if (o.rotation !== false && rng.next() < scaled(0.2, s)) {
          const theta = Tensor.fromArray(Float32Array.from(affineTheta(nd, rng)), [1, nd, nd + 1]);
          const grid = F.affineGrid(theta, [...xi.shape], false);
          xi = F.gridSample(xi, grid, 'bilinear', 'zeros', false);
          yi = F.gridSample(yi.unsqueeze(1).float(), grid, 'nearest', 'zeros', false)
            .squeeze(1)
            .round()
            .to('int64');
        }
        const flips = (o.mirrorAxes ?? Array.from({ length: nd }, (_, d) => d)).filter(
          () => rng.next() < scaled(0.5, s, 0.5),
        );
        if (flips.length) {
          xi = xi.flip(...flips.map((d) => d + 2));
          yi = yi.flip(...flips.map((d) => d + 1));
        }
        if (imageChannels === channels) xi = intensity(xi, nd, rng, s);
        else if (imageChannels > 0) {
          const image = intensity(xi.narrow(1, 0, imageChannels), nd, rng, s);
          xi = cat([image, xi.narrow(1, imageChannels, channels - imageChannels)], 1);
        }
        xs.push(xi.squeeze(0));
        ys.push(yi.squeeze(0));
      }
      return { x: stack(xs, 0), y: stack(ys, 0) };
    }),
  );
}
