// The training progress line: its formatting (a pure function of the numbers), the ETA from the
// measured step rate, and silence on a non-terminal stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatProgress, ProgressBar } from '../../src/train/progress.js';

test('durations: seconds, minutes, hours, unknown', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(75), '1m15s');
  assert.equal(formatDuration(3599), '59m59s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(26 * 3600), '26h00m');
  assert.equal(formatDuration(NaN), '?');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatDuration(-1), '?');
});

test('the line: epoch, bar, iteration, mean loss, last validation Dice, ETA', () => {
  const p = {
    epoch: 3,
    totalEpochs: 50,
    iter: 125,
    iters: 250,
    loss: 0.43219,
    dice: 0.8123,
    etaSeconds: 725,
  };
  const line = formatProgress(p, 100);
  assert.equal(
    line,
    `epoch 3/50 [${'='.repeat(20)}${' '.repeat(20)}] 125/250  loss 0.4322  dice 0.812  ETA 12m05s`,
  );
  assert.ok(line.length <= 99);
  // no validation yet, unknown ETA, iteration padded to the width of the count
  assert.equal(
    formatProgress({ ...p, iter: 7, dice: undefined, etaSeconds: NaN }, 100),
    `epoch 3/50 [${'='.repeat(1)}${' '.repeat(39)}]   7/250  loss 0.4322  dice -  ETA ?`,
  );
  assert.match(formatProgress({ ...p, dice: NaN }, 100), /dice - /);
  // a full bar at the last iteration
  assert.match(formatProgress({ ...p, iter: 250 }, 100), /\[={40}\] 250\/250/);
});

test('the bar fits the terminal: 10 to 40 columns, the line cut to the width', () => {
  const p = { epoch: 1, totalEpochs: 1, iter: 1, iters: 2, loss: 1, dice: 0.5, etaSeconds: 1 };
  const bar = (s: string) => /\[([= ]*)\]/.exec(s)![1]!.length;
  assert.equal(bar(formatProgress(p, 200)), 40);
  assert.equal(bar(formatProgress(p, 60)), 10);
  for (const cols of [20, 40, 60, 80, 120]) assert.ok(formatProgress(p, cols).length <= cols - 1);
});

test('ProgressBar: redraws in place on a terminal, ETA from the step rate; silent elsewhere', () => {
  let t = 0;
  const out: string[] = [];
  const tty = { isTTY: true, columns: 120, write: (s: string) => out.push(s) };
  const bar = new ProgressBar(tty, () => t);
  const info = (iter: number) => ({ epoch: 1, totalEpochs: 2, iter, iters: 10, loss: 0.5 });
  bar.update(info(1), 1, 20); // the first update sets the origin: ETA unknown
  assert.ok(out.at(-1)!.startsWith('\r\x1b[2Kepoch 1/2 '), 'carriage return, clear line, text');
  assert.match(out.at(-1)!, / 1\/10 .*ETA \?$/);
  t = 50;
  bar.update(info(2), 2, 20); // within 100 ms of the last draw: skipped
  assert.equal(out.length, 1);
  t = 2000;
  bar.update(info(3), 3, 20); // 2 steps in 2 s → 17 steps left ≈ 17 s
  assert.match(out.at(-1)!, / 3\/10 .*ETA 17s$/);
  t = 2010;
  bar.update(info(10), 10, 20); // the last iteration of an epoch is always drawn
  assert.match(out.at(-1)!, /10\/10/);
  bar.clear();
  assert.equal(out.at(-1), '\r\x1b[2K');
  const n = out.length;
  bar.clear(); // nothing drawn since: nothing to wipe
  assert.equal(out.length, n);

  // a terminal that reports no width (script(1), some CI ptys): 100 columns, not an empty line
  const zero: string[] = [];
  new ProgressBar({ isTTY: true, columns: 0, write: (s: string) => zero.push(s) }, () => t).update(
    info(1),
    1,
    20,
  );
  assert.match(zero[0]!, /epoch 1\/2 \[/);

  const piped: string[] = [];
  const quiet = new ProgressBar({ isTTY: false, write: (s: string) => piped.push(s) }, () => t);
  quiet.update(info(1), 1, 20);
  quiet.update(info(10), 10, 20);
  quiet.clear();
  assert.deepEqual(piped, []);
});
