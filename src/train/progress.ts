// The training progress line: on a terminal, one line redrawn in place with the epoch, the
// iteration, a bar, the running mean loss, the last validation mean Dice and the ETA of the whole
// run. Elsewhere (a log file, a pipe) it writes nothing: the trainer logs one line per epoch.

export interface ProgressInfo {
  /** 1-based epoch being trained. */
  epoch: number;
  totalEpochs: number;
  /** Iterations done in this epoch, 1..iters. */
  iter: number;
  iters: number;
  /** Mean training loss of this epoch so far. */
  loss: number;
  /** Mean validation Dice of the last validation (undefined or NaN before the first one). */
  dice?: number;
  /** Seconds left for the whole run (NaN or Infinity: unknown). */
  etaSeconds: number;
}

/** 75 → "1m15s", 3725 → "1h02m", unknown → "?". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The progress line for `columns` terminal columns (the bar takes what the text leaves, 10–40). */
export function formatProgress(p: ProgressInfo, columns = 100): string {
  const width = String(p.iters).length;
  const head = `epoch ${p.epoch}/${p.totalEpochs}`;
  const count = `${String(p.iter).padStart(width)}/${p.iters}`;
  const dice = p.dice === undefined || Number.isNaN(p.dice) ? '-' : p.dice.toFixed(3);
  const tail = `loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss)}  dice ${dice}  ETA ${formatDuration(p.etaSeconds)}`;
  const room = columns - 1 - (head.length + count.length + tail.length + 6);
  const barWidth = Math.max(10, Math.min(40, room));
  const frac = p.iters > 0 ? Math.min(1, Math.max(0, p.iter / p.iters)) : 0;
  const filled = Math.round(frac * barWidth);
  const bar = `[${'='.repeat(filled)}${' '.repeat(barWidth - filled)}]`;
  const line = `${head} ${bar} ${count}  ${tail}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/**
 * The redrawn line. `update` takes the global step counts for the ETA (measured from the first
 * update on, so that start-up and a resumed run's earlier epochs do not count) and redraws at most
 * ten times a second; `clear` wipes the line before other output.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private origin: { t: number; done: number } | undefined;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.enabled = !!stream.isTTY;
  }

  /** `done` of `total` global steps are finished. */
  update(p: Omit<ProgressInfo, 'etaSeconds'>, done: number, total: number): void {
    if (!this.enabled) return;
    const t = this.now();
    if (!this.origin) this.origin = { t, done };
    if (t - this.lastDraw < 100 && p.iter < p.iters) return;
    this.lastDraw = t;
    const rate = (t - this.origin.t) / 1000 / (done - this.origin.done);
    const etaSeconds = done > this.origin.done ? rate * (total - done) : NaN;
    this.stream.write(`\r\x1b[2K${formatProgress({ ...p, etaSeconds }, this.stream.columns || 100)}`);
    this.drawn = true;
  }

  /** Wipes the line (before a log line, and at the end). */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
