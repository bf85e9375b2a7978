// The epoch loop: steps with a progress bar, the pseudo-Dice and its moving average after every
// epoch, checkpoints, the log line, the budget refit and the hooks. What a step is, how validation is
// done and where checkpoints go are the caller's (see trainer.ts), so that fine-tuning, multi-task and
// meta-learning reuse the loop with their own parts.
import type { EpochLog, TrainState } from './types.js';
import { ProgressBar, formatDuration } from './progress.js';
import { refitEpochs } from './budget.js';

export interface EpochLoop {
  state: TrainState;
  history: EpochLog[];
  /** Trains global step s and returns its loss. */
  step: (step: number) => Promise<number>;
  /** Dice per foreground class on the validation patches. */
  validate: () => number[];
  /** Persists the epoch: checkpoint latest (and best when improved), the log line. */
  record: (entry: EpochLog, improved: boolean) => Promise<void>;
  /** The learning rate the last step used. */
  lr: () => number;
  beforeEpoch?: (epoch: number) => void;
  onEpoch?: (e: EpochLog) => void | 'stop' | Promise<void | 'stop'>;
  /** When set, the epoch count is refitted after every epoch to the budget left (from budgetStart). */
  budget?: { seconds: number; start: number };
  log: (s: string) => void;
  /** No progress bar (data-parallel ranks other than 0). */
  quiet?: boolean;
  /** Data-parallel runs: rank 0's value of a decision every rank must share (the refitted epoch
   * count, stopping), so that no rank waits alone in a collective. */
  agree?: (value: number) => number;
}

/** Runs epochs until state.totalEpochs (or a hook says stop); returns whether it stopped early. */
export async function runEpochs(loop: EpochLoop): Promise<{ stoppedEarly: boolean }> {
  const { state, history, log } = loop;
  const bar = new ProgressBar(loop.quiet ? { write: () => true } : undefined);
  const epochSeconds: number[] = [];
  try {
    while (state.epoch < state.totalEpochs) {
      loop.beforeEpoch?.(state.epoch);
      const t0 = performance.now();
      let lossSum = 0;
      for (let it = 0; it < state.itersPerEpoch; it++) {
        const step = state.epoch * state.itersPerEpoch + it;
        lossSum += await loop.step(step);
        bar.update(
          {
            epoch: state.epoch + 1,
            totalEpochs: state.totalEpochs,
            iter: it + 1,
            iters: state.itersPerEpoch,
            loss: lossSum / (it + 1),
            dice: history.at(-1)?.val_mean_dice,
          },
          step + 1,
          state.totalEpochs * state.itersPerEpoch,
        );
      }
      const dice = loop.validate();
      const valid = dice.filter((d) => !Number.isNaN(d));
      const mean = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
      state.ema = Number.isNaN(state.ema) ? mean : 0.9 * state.ema + 0.1 * mean;
      const seconds = (performance.now() - t0) / 1000;
      state.epoch++;
      if (loop.budget) {
        epochSeconds.push(seconds);
        const left = loop.budget.seconds - (performance.now() - loop.budget.start) / 1000;
        const fitted = refitEpochs(state.epoch, epochSeconds, left);
        const total = loop.agree ? loop.agree(fitted) : fitted;
        if (total !== state.totalEpochs) {
          log(`budget: ${left.toFixed(0)} s left, refitted to ${total} epochs`);
          state.totalEpochs = total;
        }
      }
      const entry: EpochLog = {
        epoch: state.epoch,
        train_loss: lossSum / state.itersPerEpoch,
        val_dice: dice,
        val_mean_dice: mean,
        ema_dice: state.ema,
        lr: loop.lr(),
        seconds,
      };
      history.push(entry);
      const improved = state.ema > state.bestEma;
      if (improved) state.bestEma = state.ema;
      await loop.record(entry, improved);
      bar.clear();
      const eta = seconds * (state.totalEpochs - state.epoch);
      log(
        `epoch ${state.epoch}/${state.totalEpochs}  loss ${entry.train_loss.toFixed(4)}  val dice [${dice.map((d) => d.toFixed(3)).join(' ')}]` +
          `  ema ${state.ema.toFixed(3)}${improved ? ' (best)' : ''}  ${seconds.toFixed(1)} s/epoch  ETA ${formatDuration(eta)}`,
      );
      let stop = (await loop.onEpoch?.(entry)) === 'stop';
      if (loop.agree) stop = loop.agree(stop ? 1 : 0) === 1;
      if (stop && state.epoch < state.totalEpochs) {
        log(`stopped after epoch ${state.epoch} (asked by the caller)`);
        return { stoppedEarly: true };
      }
    }
    return { stoppedEarly: false };
  } finally {
    bar.clear();
  }
}
