// Each rank samples its own batches: the loader's seed of rank r. Rank 0 keeps the run's seed (a
// one-rank run is the single-process run); the others derive theirs from (seed, rank) alone, so a
// resumed run draws the same batches again on every rank.
import { hashSeed } from '../common/random.js';

export function rankSeed(seed: number, rank: number): number {
  return rank === 0 ? seed : hashSeed('medseg-rank', seed, rank);
}
