// Intensity normalisation by channel type (nnU-Net's scheme):
//   CT: clip to the dataset's foreground 0.5/99.5 percentiles, then z-score with the dataset's
//       foreground mean/std (HU are comparable across scans, so dataset-wide statistics fit);
//   zscore (MRI and the rest): per image, inside the non-zero mask when cropping removed much;
//   rescale: to [0, 1] per image; none.
import { tidy, noGrad, type Tensor } from '../engine/index.js';
import type { NormalizationPlan } from '../plan/normalization.js';

export type { NormalizationScheme, CTStats, NormalizationPlan } from '../plan/normalization.js';

/** Normalises one channel [...spatial] to float32. `mask` (bool) restricts z-score statistics. */
export function normalizeChannel(x: Tensor, plan: NormalizationPlan, mask?: Tensor): Tensor {
  return tidy(() =>
    noGrad(() => {
      const f = x.float();
      switch (plan.scheme) {
        case 'none':
          return f.clone();
        case 'ct': {
          if (!plan.ct) throw new Error('CT normalisation needs the dataset statistics (plan.ct)');
          const { mean, std, p005, p995 } = plan.ct;
          return f.clamp(p005, p995).sub(mean).div(Math.max(std, 1e-8));
        }
        case 'rescale': {
          const lo = f.amin().item();
          const hi = f.amax().item();
          return f.sub(lo).div(Math.max(hi - lo, 1e-8));
        }
        case 'zscore': {
          if (plan.useMask && mask) {
            // statistics from masked sums (no gather of the masked values), in float64
            const m = mask.to('float32');
            const count = m.sum().item();
            const mean = count ? f.mul(m).sum([], false).item() / count : 0;
            const centred = f.sub(mean).mul_(m);
            const ss = centred.mul(centred).sum().item();
            const std = count > 1 ? Math.sqrt(ss / (count - 1)) : 1;
            return centred.div_(Math.max(std, 1e-8));
          }
          const mean = f.mean().item();
          const std = f.numel > 1 ? f.std().item() : 1;
          return f.sub(mean).div(Math.max(std, 1e-8));
        }
      }
    }),
  );
}
