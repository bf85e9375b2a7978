// Optimizer base: parameter list, per-parameter state tensors, zeroGrad, and state save/load
// (tensors by "<index>.<slot>" plus JSON hyper-parameters) for exact resumption.
import { keep, noGrad, type Tensor } from '../engine/index.js';

export abstract class Optimizer {
  /** Per parameter index: named state tensors (momentum_buffer, exp_avg, ...). */
  protected state = new Map<number, Map<string, Tensor>>();
  step_count = 0;
  lr: number;

  constructor(
    readonly params: Tensor[],
    lr: number,
  ) {
    this.lr = lr;
  }

  /** Drops the gradients (as set_to_none: the next backward allocates fresh ones). */
  zeroGrad(): void {
    for (const p of this.params) p.setGrad(null);
  }

  /** Applies one update from the parameters' current gradients. */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (!g) return;
        try {
          this.update(p, g, i);
        } finally {
          g.dispose();
        }
      });
    });
    this.step_count++;
  }

  protected abstract update(p: Tensor, g: Tensor, index: number): void;

  protected slot(index: number, name: string, init: () => Tensor): Tensor {
    let s = this.state.get(index);
    if (!s) this.state.set(index, (s = new Map()));
    let t = s.get(name);
    if (!t) s.set(name, (t = keep(init())));
    return t;
  }

  abstract hyperParameters(): Record<string, number | boolean>;

  /** State tensors named "<param index>.<slot>" and the scalar state as JSON. */
  stateDict(): { tensors: Map<string, Tensor>; meta: Record<string, unknown> } {
    const tensors = new Map<string, Tensor>();
    for (const [i, s] of this.state) for (const [n, t] of s) tensors.set(`${i}.${n}`, t);
    return { tensors, meta: { step: this.step_count, lr: this.lr, ...this.hyperParameters() } };
  }

  loadStateDict(tensors: Map<string, Tensor>, meta: Record<string, unknown>): void {
    for (const [k, t] of tensors) {
      const dot = k.indexOf('.');
      const i = Number(k.slice(0, dot));
      if (!Number.isInteger(i) || i < 0 || i >= this.params.length)
        throw new Error(`optimizer state: bad key ${k}`);
      if (t.shape.join(',') !== this.params[i]!.shape.join(',')) {
        throw new Error(
          `optimizer state: ${k} has shape [${t.shape}], parameter ${i} has [${this.params[i]!.shape}]`,
        );
      }
    }
    this.dispose();
    for (const [k, t] of tensors) {
      const dot = k.indexOf('.');
      const i = Number(k.slice(0, dot));
      let s = this.state.get(i);
      if (!s) this.state.set(i, (s = new Map()));
      // onto the parameter's device (a checkpoint is read on the CPU; training may run on a GPU)
      const device = this.params[i]!.device;
      s.set(k.slice(dot + 1), keep(noGrad(() => (t.device === device ? t.clone() : t.to(device)))));
    }
    this.step_count = Number(meta.step ?? 0);
    if (typeof meta.lr === 'number') this.lr = meta.lr;
  }

  dispose(): void {
    for (const s of this.state.values()) for (const t of s.values()) t.dispose();
    this.state.clear();
  }
}
