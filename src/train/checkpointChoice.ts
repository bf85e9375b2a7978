// Which of a fold's two checkpoints predicts when nobody says: the last epoch's.
// checkpoint_best is the epoch whose EMA pseudo-Dice on the fold's validation cases was highest, so
// it is chosen by the very cases the out-of-fold Dice is then measured on (an optimistic score that
// find-best would compare), and on cases no epoch was chosen by it did worse than the last epoch
// (bench/RESULTS.md, session 16: −0.028 ± 0.009 mean Dice on 12 unseen cases). nnU-Net validates
// and predicts with its final checkpoint too. checkpoint_best is still written: `--checkpoint best`.

/** A fold's checkpoints: `latest` (the last finished epoch) and `best` (best EMA pseudo-Dice). */
export const CHECKPOINT_NAMES = ['best', 'latest'] as const;
export type CheckpointName = (typeof CHECKPOINT_NAMES)[number];

export function isCheckpointName(v: unknown): v is CheckpointName {
  return (CHECKPOINT_NAMES as readonly unknown[]).includes(v);
}

/** What validation, find-best's recipe, predict, export and packages use unless told otherwise. */
export const DEFAULT_CHECKPOINT: CheckpointName = 'latest';

/** The other checkpoint of the two (the fallback where a fold lacks the one asked for). */
export function otherCheckpoint(c: CheckpointName): CheckpointName {
  return c === 'best' ? 'latest' : 'best';
}
