// Training checkpoints: a network's weights, optionally an optimiser's state and the RNG state, with
// the trainer's state as JSON metadata, in one safetensors file. It lives in nn/ so that inference
// (and fine-tuning, packaging, export) can read weights without loading the trainer.
import { getRngState, setRngState, type Tensor } from '../engine/index.js';
import type { Module } from './module.js';
import { saveSafetensors, loadSafetensors, CheckpointError } from './safetensors.js';

/** What a checkpoint needs of an optimiser (optim/ sits beside nn/, so only its shape is named). */
export interface StatefulOptimizer {
  stateDict(): { tensors: Map<string, Tensor>; meta: Record<string, unknown> };
  loadStateDict(tensors: Map<string, Tensor>, meta: Record<string, unknown>): void;
}

const OPTIMIZER = 'optimizer.';
const RNG = 'rng.cpu';

/** Writes weights, optimiser state, RNG and `state` (JSON) to `file` atomically. */
export async function saveCheckpoint(
  file: string,
  net: Module,
  opt: StatefulOptimizer | null,
  state: unknown,
): Promise<void> {
  const tensors = new Map(net.stateDict());
  const meta: Record<string, string> = { state: JSON.stringify(state) };
  if (opt) {
    const o = opt.stateDict();
    for (const [k, t] of o.tensors) tensors.set(`${OPTIMIZER}${k}`, t);
    meta.optimizer = JSON.stringify(o.meta);
  }
  const rng = getRngState();
  tensors.set(RNG, rng);
  try {
    await saveSafetensors(file, tensors, meta);
  } finally {
    rng.dispose();
  }
}

/** The network's own weights in a checkpoint's tensors (no optimiser or RNG entries). */
export function weightsOf(tensors: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...tensors].filter(([k]) => !k.startsWith(OPTIMIZER) && !k.startsWith('rng.')));
}

/**
 * Loads a checkpoint into `net` (and `opt` with the RNG state, to resume): every weight's name and
 * shape is checked before anything is copied. Returns the trainer's state as stored.
 */
export async function loadCheckpoint<S = unknown>(
  file: string,
  net: Module,
  opt?: StatefulOptimizer,
): Promise<S> {
  const { tensors, metadata } = await loadSafetensors(file);
  try {
    if (!metadata.state)
      throw new CheckpointError(file, 'no training state in the metadata (not a medseg checkpoint?)');
    const weights = weightsOf(tensors);
    for (const [k, t] of net.stateDict()) {
      const w = weights.get(k);
      if (!w) throw new CheckpointError(file, `missing weight ${k}`);
      if (w.shape.join(',') !== t.shape.join(','))
        throw new CheckpointError(file, `${k} has shape [${w.shape}], the network expects [${t.shape}]`);
    }
    net.loadStateDict(weights, false);
    if (opt) {
      const optTensors = new Map(
        [...tensors].filter(([k]) => k.startsWith(OPTIMIZER)).map(([k, t]) => [k.slice(OPTIMIZER.length), t]),
      );
      opt.loadStateDict(optTensors, JSON.parse(metadata.optimizer ?? '{}') as Record<string, unknown>);
      const rng = tensors.get(RNG);
      if (rng) setRngState(rng);
    }
    return JSON.parse(metadata.state) as S;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
