// Resuming train-multi: what a run needs before its network exists (the seed that made the task
// order and each task's batches, from checkpoint_latest's header alone), and the per-task batch
// counters, which are a pure function of the task order: task of step s = taskOfStep(seed, s).
import { open } from 'node:fs/promises';
import { CheckpointError } from '../nn/index.js';
import type { TrainState } from '../train/types.js';
import { taskOfStep } from './sampling.js';

/** The trainer's state stored in a checkpoint's metadata, read from the header only. */
export async function checkpointState(file: string): Promise<TrainState> {
  const f = await open(file, 'r');
  try {
    const len = Buffer.alloc(8);
    await f.read(len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    if (!(n > 0 && n < 100_000_000)) throw new CheckpointError(file, 'not a safetensors checkpoint');
    const head = Buffer.alloc(n);
    await f.read(head, 0, n, 8);
    const meta = (JSON.parse(head.toString('utf8')) as { __metadata__?: { state?: string } }).__metadata__;
    if (!meta?.state) throw new CheckpointError(file, 'no training state in the metadata');
    return JSON.parse(meta.state) as TrainState;
  } finally {
    await f.close();
  }
}

/** How many batches each task had drawn before global step `steps` (its loader's next index). */
export function drawnBefore(probabilities: number[], seed: number, steps: number): number[] {
  const drawn = new Array<number>(probabilities.length).fill(0);
  for (let s = 0; s < steps; s++) drawn[taskOfStep(probabilities, seed, s)]!++;
  return drawn;
}
