// The per-epoch validation signal: Dice over fixed patches of the fold's validation cases, summed
// over all patches (nnU-Net's pseudo-Dice), cheap enough to run after every epoch.
import { Tensor, tidy, noGrad, autocast, keep, type AutocastDType } from '../engine/index.js';
import type { UNet } from '../nn/index.js';
import { Rng } from '../common/random.js';
import { readPatch, patchTensors, type StoredCase } from '../preprocess/store.js';
import { patchStart } from './sampler.js';

export interface ValidationBatch {
  x: Tensor;
  y: Tensor;
}

/** Fixed validation patches (the same every epoch): one foreground-centred, the rest random. */
export function validationBatches(
  dir: string,
  cases: StoredCase[],
  patch: number[],
  perCase: number,
): ValidationBatch[] {
  const rng = new Rng(777);
  const out: ValidationBatch[] = [];
  for (const meta of cases) {
    const patches = [];
    for (let i = 0; i < perCase; i++)
      patches.push(readPatch(dir, meta, patchStart(meta, patch, i === 0, rng), patch));
    const b = patchTensors(patches, meta.channels, patch);
    out.push({ x: keep(b.x), y: keep(b.y) });
  }
  return out;
}

export function disposeBatches(batches: ValidationBatch[]): void {
  for (const b of batches) {
    b.x.dispose();
    b.y.dispose();
  }
}

/** Dice per foreground class (NaN where a class is absent from predictions and references). */
export function pseudoDice(
  net: UNet,
  batches: ValidationBatch[],
  classes: number,
  precision: AutocastDType | null,
  squeeze2d: boolean,
): number[] {
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  net.eval();
  try {
    for (const b of batches) {
      tidy(() =>
        noGrad(() => {
          const x = squeeze2d ? b.x.squeeze(2) : b.x;
          const pred = autocast(precision, () => net.forward(x)).argmax(1);
          const y = squeeze2d ? b.y.squeeze(1) : b.y;
          for (let c = 1; c < classes; c++) {
            const p = pred.eq(c);
            const r = y.eq(c);
            const inter = p.logicalAnd(r).countNonzero();
            tp[c]! += inter;
            fp[c]! += p.countNonzero() - inter;
            fn[c]! += r.countNonzero() - inter;
          }
        }),
      );
    }
  } finally {
    net.train();
  }
  return tp.slice(1).map((t, i) => {
    const d = 2 * t + fp[i + 1]! + fn[i + 1]!;
    return d ? (2 * t) / d : NaN;
  });
}
