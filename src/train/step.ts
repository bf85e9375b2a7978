// One optimisation step: a batch forward (under autocast), the loss, backward, the optimiser update at
// the scheduled learning rate. Every trainer (single task, fine-tuning, multi-task, meta-learning,
// search trials) is built from this and the epoch loop; the train-step benchmark times this very
// function.
import { tidy, keep, canonicalDevice, type Tensor, type AutocastDType, autocast } from '../engine/index.js';
import type { Optimizer, GradScaler } from '../optim/index.js';

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
  /** float16 training: the loss is scaled and overflowing steps skipped (optim/gradScaler.ts). */
  scaler?: GradScaler | null;
  /** Where the network lives: the loader's CPU batches cross to it here, once per step. */
  device?: string;
  /** Data-parallel runs: averages the gradients over the ranks, after backward and before the
   * update (src/distributed/ allReduceGradients). Unset: the single-process step. */
  syncGrads?: (params: readonly Tensor[]) => void;
}

/** The batch on `device` (the same one when it is there already; else the CPU copy is freed). */
export function batchTo(batch: Batch, device: string | undefined): Batch {
  if (!device || batch.x.device === canonicalDevice(device)) return batch;
  try {
    return { x: keep(batch.x.to(device)), y: keep(batch.y.to(device)) };
  } finally {
    batch.x.dispose();
    batch.y.dispose();
  }
}

/** Runs one step on `batch` (which the caller owns) and returns the loss. */
export function trainOnBatch(parts: StepParts, step: number, batch: Batch): number {
  parts.opt.lr = parts.lrAt(step);
  return tidy(() => {
    const outs = autocast(parts.precision, () => parts.forward(batch.x));
    const l = parts.loss(outs, batch.y);
    parts.opt.zeroGrad();
    if (parts.scaler) {
      parts.scaler.scaleLoss(l).backward();
      // the scaled gradients are averaged: an overflow on any rank reaches every rank, which all skip
      parts.syncGrads?.(parts.opt.params);
      parts.scaler.step(parts.opt);
    } else {
      l.backward();
      parts.syncGrads?.(parts.opt.params);
      parts.opt.step();
    }
    return l.item();
  });
}

/** A step function over a batch source: fetches the batch of step s, trains on it, frees it. */
export function makeTrainStep(
  parts: StepParts,
  nextBatch: (step: number) => Promise<Batch>,
): (step: number) => Promise<number> {
  return async (step) => {
    const batch = batchTo(await nextBatch(step), parts.device);
    try {
      return trainOnBatch(parts, step, batch);
    } finally {
      batch.x.dispose();
      batch.y.dispose();
    }
  };
}
