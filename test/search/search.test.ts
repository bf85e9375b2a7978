// End to end on a tiny synthetic dataset: a search of 3 trials × 2 epochs in this process (one of
// them given a depth the patch cannot take: it fails with that reason and the study goes on), then
// `medseg search status --json` and `medseg search best --write-plans` through the CLI, and a
// store that does not answer as one clear error from the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { search } from '../../src/search/study.js';
import type { Plans } from '../../src/plan/planner.js';
import { writeReport } from '../../src/report/report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../../../bin/medseg');
const run = promisify(execFile);

test('search: 3 trials × 2 epochs, an impossible trial fails with its reason, status and best through the CLI', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-search-'));
  const ds = (await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 5 }))
    .dir;
  const model = path.join(root, 'model');
  const lines: string[] = [];
  const r = await search({
    dataset: ds,
    modelDir: model,
    trials: 3,
    space: {
      width: { type: 'choice', values: [4, 8] },
      depth: { type: 'int', low: 2, high: 8 },
      lr: { type: 'float', low: 0.005, high: 0.02, log: true },
    },
    enqueue: [
      { width: 4, depth: 8, lr: 0.01 },
      { width: 4, depth: 2, lr: 0.01 },
    ],
    sampler: 'random',
    epochs: 2,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    log: (s) => lines.push(s),
  });
  assert.equal(r.trials.length, 3);
  const [bad, ok] = r.trials;
  assert.equal(bad!.state, 'failed');
  assert.match(bad!.error!, /depth 8: a patch of \[.*\] can be pooled to at most \d stages/);
  assert.equal(ok!.state, 'complete');
  assert.ok(ok!.value! >= 0 && ok!.value! <= 1);
  assert.deepEqual(Object.keys(ok!.intermediate), ['1', '2']);
  // the value is the best per-epoch validation pseudo-Dice the trainer logged
  const log = readFileSync(
    path.join(model, 'trials', 'trial_0001', '3d_fullres', 'fold_0', 'log.jsonl'),
    'utf8',
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { val_mean_dice: number });
  assert.equal(log.length, 2);
  assert.equal(ok!.value, Math.max(...log.map((e) => e.val_mean_dice)));
  // the trial trained the network its parameters describe
  const trialPlans = JSON.parse(
    readFileSync(path.join(model, 'trials', 'trial_0001', 'plans.json'), 'utf8'),
  ) as Plans;
  assert.equal(trialPlans.configurations['3d_fullres']!.network.features.length, 2);
  assert.equal(trialPlans.configurations['3d_fullres']!.network.features[0], 4);
  assert.ok(['complete', 'pruned', 'failed'].includes(r.trials[2]!.state));

  const status = await run(process.execPath, [cli, 'search', 'status', '-m', model, '--json']);
  const last = JSON.parse(status.stdout.trim().split('\n').at(-1)!) as {
    trials: { number: number; state: string; value: number | null; params: Record<string, unknown> }[];
  };
  assert.deepEqual(
    last.trials.map((t) => [t.number, t.state, t.value]),
    r.trials.map((t) => [t.number, t.state, t.value]),
  );
  assert.deepEqual(last.trials[1]!.params, { width: 4, depth: 2, lr: 0.01 });

  const best = await run(process.execPath, [cli, 'search', 'best', '-m', model, '--write-plans']);
  assert.match(best.stdout, new RegExp(`best: trial ${r.best!.number}`));
  assert.match(best.stdout, /medseg train DATASET -m .* --fold all --lr /);
  const written = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
  const bestPlans = readFileSync(
    path.join(model, 'trials', `trial_${String(r.best!.number).padStart(4, '0')}`, 'plans.json'),
    'utf8',
  );
  assert.deepEqual(written, JSON.parse(bestPlans));
  assert.ok(existsSync(path.join(model, 'plans.before-search.json')));

  // the report shows the trials as a table and the value against each parameter
  const html = readFileSync(await writeReport(model), 'utf8');
  const section = html.slice(html.indexOf('<h2>Search: search (3 trials)</h2>'));
  assert.ok(section.length > 0 && html.includes('<h2>Search: search (3 trials)</h2>'));
  assert.match(section, /<th>width<\/th><th>depth<\/th><th>lr<\/th>/);
  assert.match(
    section,
    /<tr><td>0<\/td><td>failed<\/td><td>-<\/td><td>4<\/td><td>8<\/td><td>0\.0100<\/td><td[^>]*>depth 8: /,
  );
  assert.equal((section.match(/<svg /g) ?? []).length, 3);
  const plotted = r.trials.filter((t) => t.value !== null).length;
  assert.equal((section.match(/<circle /g) ?? []).length, 3 * plotted);
});

test('the CLI with a PostgreSQL URL that does not answer: exit 1 and one line naming host and port', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const t0 = performance.now();
    await assert.rejects(
      run(process.execPath, [cli, 'worker', '--storage', `postgresql://u@127.0.0.1:${port}/db`]),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(
          e.stderr,
          new RegExp(`^medseg worker: PostgreSQL at 127\\.0\\.0\\.1:${port} .*no answer within 5 s\\n$`),
        );
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 15000);
  } finally {
    silent.close();
  }
});
