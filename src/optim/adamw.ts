// AdamW (decoupled weight decay), as torch.optim.AdamW.
import { zerosLike, type Tensor } from '../engine/index.js';
import { Optimizer } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Tensor[], o: AdamWOptions) {
    super(params, o.lr);
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 1e-2;
  }

  protected update(p: Tensor, g: Tensor, i: number): void {
    const t = this.step_count + 1;
    const m = this.slot(i, 'exp_avg', () => zerosLike(p));
    const v = this.slot(i, 'exp_avg_sq', () => zerosLike(p));
    if (this.weightDecay) p.mul_(1 - this.lr * this.weightDecay);
    m.lerp_(g, 1 - this.beta1);
    v.mul_(this.beta2).addcmul_(g, g, 1 - this.beta2);
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const root = v.sqrt();
    const denom = root.div_(Math.sqrt(bc2)).add_(this.eps);
    p.addcdiv_(m, denom, -this.lr / bc1);
    root.dispose();
  }

  hyperParameters() {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
}
