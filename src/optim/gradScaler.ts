// Dynamic loss scaling for float16 training (torch.cuda.amp.GradScaler's rule): float16 gradients
// underflow to zero below ~6e-8, so the loss is multiplied by a large scale before backward and the
// gradients divided by it before the update. When a gradient overflows (inf/NaN) the step is skipped
// and the scale halved; after `growthInterval` good steps in a row it doubles. The rule does not
// depend on the device: it is tested on the CPU with injected non-finite gradients.
import { call, type Tensor } from '../engine/index.js';
import type { Optimizer } from './optimizer.js';

export interface GradScalerOptions {
  /** Initial scale (PyTorch: 2^16). */
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  /** Consecutive good steps before the scale grows (PyTorch: 2000). */
  growthInterval?: number;
}

/** What a checkpoint keeps of a scaler, so that a resumed run continues with the same scale. */
export interface GradScalerState {
  scale: number;
  goodSteps: number;
}

export class GradScaler {
  scale: number;
  /** Good steps since the last change of scale. */
  goodSteps = 0;
  /** Steps skipped for non-finite gradients so far (this process). */
  skipped = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;

  constructor(o: GradScalerOptions = {}, state?: GradScalerState) {
    this.scale = o.initScale ?? 2 ** 16;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
    if (!(this.scale > 0) || !(this.growthFactor > 1) || !(this.backoffFactor > 0 && this.backoffFactor < 1))
      throw new Error('GradScaler: scale > 0, growthFactor > 1 and 0 < backoffFactor < 1 are required');
    if (!Number.isInteger(this.growthInterval) || this.growthInterval < 1)
      throw new Error('GradScaler: growthInterval must be a positive integer');
    if (state) {
      this.scale = state.scale;
      this.goodSteps = state.goodSteps;
    }
  }

  /** The loss times the scale (backward on this one). */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /** Divides every parameter's gradient by the scale in place; true when any is inf or NaN. */
  unscale(params: Tensor[]): boolean {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    try {
      return grads.length > 0 && (call('amp_unscale_', grads, 1 / this.scale) as boolean);
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /**
   * Unscales the gradients and applies the optimiser's step, unless a gradient is not finite: then
   * the gradients are dropped and the step skipped. Updates the scale either way. Returns whether
   * the step was applied.
   */
  step(opt: Optimizer): boolean {
    const nonFinite = this.unscale(opt.params);
    if (nonFinite) {
      opt.zeroGrad();
      this.skipped++;
    } else {
      opt.step();
    }
    this.update(nonFinite);
    return !nonFinite;
  }

  /** The scale rule: halve on a non-finite step, grow after growthInterval good steps in a row. */
  update(nonFinite: boolean): void {
    if (nonFinite) {
      this.scale *= this.backoffFactor;
      this.goodSteps = 0;
      return;
    }
    this.goodSteps++;
    if (this.goodSteps >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.goodSteps = 0;
    }
  }

  state(): GradScalerState {
    return { scale: this.scale, goodSteps: this.goodSteps };
  }
}
