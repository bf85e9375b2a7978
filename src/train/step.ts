// One optimisation step: a batch forward (under autocast), the loss, backward, the optimiser update at
// the scheduled learning rate. Every trainer (single task, fine-tuning, multi-task, meta-learning,
// search trials) is built from this and the epoch loop; the train-step benchmark times this very
// function.
import { tidy, type Tensor, type AutocastDType, autocast } from '../engine/index.js';
import type { Optimizer } from '../optim/index.js';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface StepParts {
  /** Forward in training mode: every deep-supervision output (or one). */
  forward: (x: Tensor) => Tensor[];
  loss: (outputs: Tensor[], y: Tensor) => Tensor;
  opt: Optimizer;
  precision: AutocastDType | null;
  /** The learning rate of global step s. */
  lrAt: (step: number) => number;
}

/** Runs one step on `batch` (which the caller owns) and returns the loss. */
export function trainOnBatch(parts: StepParts, step: number, batch: Batch): number {
  parts.opt.lr = parts.lrAt(step);
  return tidy(() => {
    const outs = autocast(parts.precision, () => parts.forward(batch.x));
    const l = parts.loss(outs, batch.y);
    parts.opt.zeroGrad();
    l.backward();
    parts.opt.step();
    return l.item();
  });
}

/** A step function over a batch source: fetches the batch of step s, trains on it, frees it. */
export function makeTrainStep(
  parts: StepParts,
  nextBatch: (step: number) => Promise<Batch>,
): (step: number) => Promise<number> {
  return async (step) => {
    const batch = await nextBatch(step);
    try {
      return trainOnBatch(parts, step, batch);
    } finally {
      batch.x.dispose();
      batch.y.dispose();
    }
  };
}
