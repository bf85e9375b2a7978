// SGD with momentum, Nesterov and (coupled, L2) weight decay, as torch.optim.SGD.
import { zerosLike, type Tensor } from '../engine/index.js';
import { Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: Tensor[], o: SGDOptions) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0;
    this.nesterov = o.nesterov ?? false;
    this.weightDecay = o.weightDecay ?? 0;
    if (this.nesterov && this.momentum <= 0) throw new Error('SGD: Nesterov needs momentum > 0');
  }

  protected update(p: Tensor, g0: Tensor, i: number): void {
    let g = g0;
    const owned: Tensor[] = [];
    if (this.weightDecay) owned.push((g = g.add(p, this.weightDecay)));
    if (this.momentum) {
      let first = false;
      const buf = this.slot(i, 'momentum_buffer', () => {
        first = true;
        return zerosLike(p);
      });
      // torch: the first step initialises the buffer with the gradient itself.
      if (first) buf.copy_(g);
      else buf.mul_(this.momentum).add_(g);
      if (this.nesterov) owned.push((g = g.add(buf, this.momentum)));
      else g = buf;
    }
    p.add_(g, -this.lr);
    for (const t of owned) t.dispose();
  }

  hyperParameters() {
    return { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}
