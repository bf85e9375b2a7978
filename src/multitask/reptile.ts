// First-order meta-learning updates. Reptile (Nichol, Achiam & Schulman 2018): from θ, k ordinary
// training steps on batches of one task reach θ'; the outer update moves θ part of the way there,
// θ ← θ + ε(θ' − θ). First-order MAML: the gradient of one more batch of that task taken at θ' is
// applied at θ, θ ← θ − β·∇L(θ'). Both need only the normal step: no second derivatives.
import { keep, noGrad, type Tensor } from '../engine/index.js';

/** Detached copies of the parameters (the caller disposes them). */
export function snapshot(params: Tensor[]): Tensor[] {
  return noGrad(() => params.map((p) => keep(p.detach().clone())));
}

/** Reptile's outer update in place: p ← before + ε(p − before), computed as ((p − before)·ε) + before. */
export function reptileUpdate(params: Tensor[], before: Tensor[], eps: number): void {
  noGrad(() => params.forEach((p, i) => p.sub_(before[i]!).mul_(eps).add_(before[i]!)));
}

/** FOMAML's outer update: restores θ, then steps θ ← θ − β·g with g the gradients now held (at θ'). */
export function fomamlUpdate(params: Tensor[], before: Tensor[], beta: number): void {
  noGrad(() =>
    params.forEach((p, i) => {
      const g = p.grad;
      p.copy_(before[i]!);
      if (g) {
        p.sub_(g, beta);
        g.dispose();
      }
      p.setGrad(null);
    }),
  );
}

/**
 * One Reptile meta-iteration: snapshot θ, run `inner` (k steps on one task, changing the parameters
 * to θ'), report θ' to `onAdapted` (tests compare against it), then apply the outer update.
 */
export async function reptileIteration(
  params: Tensor[],
  inner: () => Promise<void>,
  eps: number,
  onAdapted?: (adapted: Tensor[]) => void,
): Promise<void> {
  const before = snapshot(params);
  try {
    await inner();
    onAdapted?.(params);
    reptileUpdate(params, before, eps);
  } finally {
    for (const t of before) t.dispose();
  }
}
