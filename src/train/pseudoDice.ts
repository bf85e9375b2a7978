// The per-epoch validation signal: Dice over fixed patches of the fold's validation cases, summed
// over all patches (nnU-Net's pseudo-Dice), cheap enough to run after every epoch.
import { Tensor, tidy, noGrad, autocast, keep, type AutocastDType } from '../engine/index.js';
import { regionTargets, type UNet } from '../nn/index.js';
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

/**
 * Dice per foreground class (NaN where a class is absent from predictions and references); with
 * `regions` (class indices per sigmoid output), Dice per region, a region predicted where its logit > 0.
 */
export function pseudoDice(
  net: UNet,
  batches: ValidationBatch[],
  classes: number,
  precision: AutocastDType | null,
  squeeze2d: boolean,
  regions?: number[][],
): number[] {
  const n = regions ? regions.length : classes - 1;
  const tp = new Array<number>(n).fill(0);
  const fp = new Array<number>(n).fill(0);
  const fn = new Array<number>(n).fill(0);
  net.eval();
  try {
    for (const b of batches) {
      tidy(() =>
        noGrad(() => {
          const x = squeeze2d ? b.x.squeeze(2) : b.x;
          const logits = autocast(precision, () => net.forward(x));
          const y = squeeze2d ? b.y.squeeze(1) : b.y;
          const classOf = regions ? null : logits.argmax(1);
          const predicted = (k: number): Tensor => (classOf ? classOf.eq(k + 1) : logits.select(1, k).gt(0));
          const targets = regions ? regionTargets(y, regions) : null;
          const reference = (k: number): Tensor => (targets ? targets.select(1, k).gt(0) : y.eq(k + 1));
          for (let k = 0; k < n; k++) {
            const p = predicted(k);
            const r = reference(k);
            const inter = p.logicalAnd(r).countNonzero();
            tp[k]! += inter;
            fp[k]! += p.countNonzero() - inter;
            fn[k]! += r.countNonzero() - inter;
          }
        }),
      );
    }
  } finally {
    net.train();
  }
  return tp.map((t, k) => {
    const d = 2 * t + fp[k]! + fn[k]!;
    return d ? (2 * t) / d : NaN;
  });
}
