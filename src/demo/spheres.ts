// The engine demo until the full pipeline lands: a tiny U-Net learns to segment noisy bright
// ellipsoids in synthetic volumes, then segments a larger unseen volume by sliding window.
import { Tensor, tidy, manualSeed, setThreads, noGrad } from '../engine/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../nn/index.js';
import { SGD, polyLR } from '../optim/index.js';
import { slidingWindowSegment } from '../infer/index.js';

/** A volume with a few random ellipsoids (label 1) and a smaller bright core inside each (label 2). */
export function syntheticCase(
  size: number[],
  rand: () => number,
): { image: Float32Array; label: BigInt64Array } {
  const [D, H, W] = size as [number, number, number];
  const image = new Float32Array(D * H * W);
  const label = new BigInt64Array(D * H * W);
  const blobs = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({
    c: [rand() * D, rand() * H, rand() * W],
    r: [3 + rand() * (D / 6), 3 + rand() * (H / 6), 3 + rand() * (W / 6)],
  }));
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = (z * H + y) * W + x;
        let v = 0.2 * (rand() - 0.5);
        for (const b of blobs) {
          const d = Math.hypot((z - b.c[0]!) / b.r[0]!, (y - b.c[1]!) / b.r[1]!, (x - b.c[2]!) / b.r[2]!);
          if (d < 1) {
            const core = d < 0.45;
            label[i] = core ? 2n : label[i] === 2n ? 2n : 1n;
            v = Math.max(v, core ? 1 : 0.5) + 0.2 * (rand() - 0.5);
          }
        }
        image[i] = v;
      }
  return { image, label };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DemoResult {
  steps: number;
  lossFirst: number;
  lossLast: number;
  dice: Record<string, number>;
  seconds: number;
}

export function runSpheresDemo(
  o: { steps?: number; seed?: number; log?: (s: string) => void } = {},
): DemoResult {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  setThreads();
  manualSeed(o.seed ?? 0);
  const rand = mulberry32(o.seed ?? 0);
  const patch = [32, 32, 32];
  const net = new UNet({ ...defaultPlainSpec(patch, 1, 3), features: [8, 16, 32, 64] });
  const steps = o.steps ?? 120;
  const opt = new SGD(net.parameters(), { lr: 0.02, momentum: 0.95, nesterov: true, weightDecay: 3e-5 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.lr = polyLR(0.02, s, steps);
    const cases = [syntheticCase(patch, rand), syntheticCase(patch, rand)];
    const loss = tidy(() => {
      const x = Tensor.fromArray(Float32Array.from(cases.flatMap((c) => [...c.image])), [2, 1, ...patch]);
      const y = Tensor.fromArray(BigInt64Array.from(cases.flatMap((c) => [...c.label])), [2, ...patch]);
      const l = deepSupervisionLoss(net.forwardAll(x), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    });
    losses.push(loss);
    if (s % 20 === 0 || s === steps - 1) log(`step ${s + 1}/${steps}  loss ${loss.toFixed(4)}`);
  }
  // An unseen, larger volume: the network sees it window by window.
  const big = [48, 56, 40];
  const test = syntheticCase(big, rand);
  net.eval();
  const dice = tidy(() => {
    const img = Tensor.fromArray(test.image, [1, ...big]);
    const seg = noGrad(() => slidingWindowSegment(net, img, { patch, numClasses: 3 }));
    const ref = Tensor.fromArray(test.label, big);
    const out: Record<string, number> = {};
    for (const c of [1, 2]) {
      const p = seg.eq(c);
      const r = ref.eq(c);
      const inter = p.logicalAnd(r).countNonzero();
      const denom = p.countNonzero() + r.countNonzero();
      out[c === 1 ? 'outer' : 'core'] = denom ? (2 * inter) / denom : 1;
    }
    return out;
  });
  net.dispose();
  opt.dispose();
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    steps,
    lossFirst: mean(losses.slice(0, 5)),
    lossLast: mean(losses.slice(-5)),
    dice,
    seconds: (performance.now() - t0) / 1000,
  };
}
