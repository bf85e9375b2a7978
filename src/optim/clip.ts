// Gradient clipping by the global L2 norm (torch.nn.utils.clip_grad_norm_).
import { noGrad, type Tensor } from '../engine/index.js';

/** Scales all gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    let sq = 0;
    for (const g of grads) {
      const n = g.norm();
      sq += n.item() ** 2;
      n.dispose();
    }
    const total = Math.sqrt(sq);
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    for (const g of grads) g.dispose();
    return total;
  });
}
