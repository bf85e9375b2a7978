// The sliding window as it was before the prediction speed-ups (issue 11), kept verbatim as the
// reference the faster path is compared against: test/infer/slidingWindowFast.test.ts checks equal
// outputs, bench/predict-profile.mjs --compare times both in one process.
import {
  autocast,
  noGrad,
  stack,
  tidy,
  keep,
  zeros,
  F,
  type Tensor,
  canonicalDevice,
} from '../../src/engine/index.js';
import { gaussianImportance } from '../../src/infer/gaussian.js';
import { windowBoxes } from '../../src/infer/windows.js';
import {
  accumulationBytes,
  accumulationDevice,
  type SegmentationNetwork,
  type SlidingWindowOptions,
} from '../../src/infer/slidingWindow.js';

function mirrorCombinations(axes: number[]): number[][] {
  let combos: number[][] = [[]];
  for (const a of axes) combos = [...combos, ...combos.map((c) => [...c, a])];
  return combos;
}

/**
 * Logits [K, ...spatial] for one image [C, ...spatial] (float32, on the accumulation device: see
 * `accumulate`). Images smaller than the patch are padded for the windows and cropped back.
 */
export function slidingWindowLogitsBaseline(
  net: SegmentationNetwork,
  image: Tensor,
  o: SlidingWindowOptions,
): Tensor {
  const spatial = image.shape.slice(1);
  const nd = spatial.length;
  if (o.patch.length !== nd) throw new Error(`sliding window: patch has ${o.patch.length} dims, image ${nd}`);
  const padAmounts = spatial.map((s, d) => Math.max(0, o.patch[d]! - s));
  const padded = padAmounts.some((p) => p > 0)
    ? tidy(() => {
        // pad evenly on both sides; F.pad lists the last axis first
        const p: number[] = [];
        for (let d = nd - 1; d >= 0; d--) p.push(padAmounts[d]! >> 1, padAmounts[d]! - (padAmounts[d]! >> 1));
        return F.pad(image, p, 'constant', 0);
      })
    : image;
  const shape = padded.shape.slice(1);
  const boxes = windowBoxes(shape, o.patch, o.step ?? 0.5);
  const batch = Math.max(1, o.batch ?? 2);
  const mirrors = mirrorCombinations(o.mirrorAxes ?? []);
  const device = canonicalDevice(o.device ?? image.device);
  const accDevice =
    o.accumulate === 'cpu'
      ? 'cpu'
      : o.accumulate === 'device'
        ? device
        : accumulationDevice(device, accumulationBytes(shape, padded.shape[0]!, o.numClasses));
  // with the accumulator on the device the whole image crosses once; else each batch of windows does
  const source = accDevice === device && padded.device !== device ? keep(padded.to(device)) : padded;
  const gauss = keep(tidy(() => gaussianImportance(o.patch, o.sigmaScale).to(accDevice)));
  const acc = keep(zeros([o.numClasses, ...shape], { device: accDevice }));
  const weight = keep(zeros(shape, { device: accDevice }));
  try {
    noGrad(() => {
      for (let b = 0; b < boxes.length; b += batch) {
        tidy(() => {
          const group = boxes.slice(b, b + batch);
          const windows = stack(
            group.map((box) => box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), source)),
            0,
          ).to(device);
          let logits: Tensor | null = null;
          for (const m of mirrors) {
            const dims = m.map((a) => a + 2);
            const input = dims.length ? windows.flip(...dims) : windows;
            let out = autocast(o.autocast ?? null, () => net.forward(input)).float();
            if (dims.length) out = out.flip(...dims);
            logits = logits ? logits.add_(out) : out;
          }
          if (mirrors.length > 1) logits!.div_(mirrors.length);
          if (accDevice !== device) logits = logits!.to(accDevice);
          group.forEach((box, k) => {
            const target = box.reduce((t, st, d) => t.narrow(d + 1, st, o.patch[d]!), acc);
            target.add_(logits!.select(0, k).mul(gauss));
            const w = box.reduce((t, st, d) => t.narrow(d, st, o.patch[d]!), weight);
            w.add_(gauss);
          });
        });
        o.onProgress?.(Math.min(b + batch, boxes.length), boxes.length);
      }
      acc.div_(weight);
    });
  } finally {
    gauss.dispose();
    weight.dispose();
    if (source !== padded) source.dispose();
    if (padded !== image) padded.dispose();
  }
  if (!padAmounts.some((p) => p > 0)) return acc;
  const cropped = tidy(() =>
    spatial.reduce((t, s, d) => t.narrow(d + 1, padAmounts[d]! >> 1, s), acc).contiguous(),
  );
  acc.dispose();
  return cropped;
}
