// Worker processes on one store (SQLite file, and a real PostgreSQL when installed), with a test
// function as the objective (no training): 3 workers × 12 trials run every trial exactly once; a
// worker killed with SIGKILL mid-trial has its trial re-queued and finished by another, nothing
// lost or duplicated.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../../src/search/storage/open.js';
import type { FunctionStudyConfig } from '../../src/search/objective.js';
import { TEST_FUNCTIONS } from '../../src/search/functions.js';
import { freshDatabase, pgSkipReason, startPostgres, type PgServer } from './postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const workerScript = path.resolve(here, '../../src/search/workerProcess.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: PgServer | null = null;
const pgSkip = pgSkipReason();
before(async () => {
  if (!pgSkip) server = await startPostgres();
});
after(() => server?.stop());

function startWorker(
  url: string,
  id: string,
  graceMs: number,
): { child: ChildProcess; done: Promise<number | string> } {
  const child = spawn(
    process.execPath,
    [
      workerScript,
      JSON.stringify({ storage: url, studies: ['fn'], workerId: id, graceMs, heartbeatMs: 100, pollMs: 100 }),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const done = new Promise<number | string>((resolve) =>
    child.on('exit', (code, sig) => {
      if (code) console.error(`worker ${id} exited ${code}:\n${err}`);
      resolve(sig ?? code ?? -1);
    }),
  );
  return { child, done };
}

const studyConfig = (epochMs: number, blockMs = 0): FunctionStudyConfig => ({
  objective: 'function',
  function: 'branin',
  space: TEST_FUNCTIONS.branin!.space,
  sampler: 'tpe',
  seed: 1,
  pruning: null,
  epochs: 3,
  epochMs,
  blockMs,
});

const stores: { name: string; skip: string | false; url: () => Promise<string> }[] = [
  {
    name: 'sqlite',
    skip: false,
    url: () =>
      Promise.resolve(`sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'medseg-w-')), 's.sqlite')}`),
  },
  { name: 'postgresql', skip: pgSkip ?? false, url: () => freshDatabase(server!) },
];

for (const st of stores) {
  describe(`workers on ${st.name}`, { skip: st.skip }, () => {
    test('3 workers × 12 trials: every trial runs exactly once', async () => {
      const url = await st.url();
      const s = await openStorage(url);
      try {
        const study = await s.createStudy('fn', 12, studyConfig(150));
        const workers = ['a', 'b', 'c'].map((id) => startWorker(url, id, 5000));
        assert.deepEqual(await Promise.all(workers.map((w) => w.done)), [0, 0, 0]);
        const trials = await s.trials(study.id);
        assert.deepEqual(
          trials.map((t) => t.number),
          Array.from({ length: 12 }, (_, i) => i),
        );
        for (const t of trials) {
          assert.equal(t.state, 'complete', `trial ${t.number}`);
          assert.equal(t.requeuedFrom, null);
          // the stored value is the function's at the stored parameters, and 3 epochs were reported
          assert.ok(Math.abs(t.value! + TEST_FUNCTIONS.branin!.f(t.params)) < 1e-9);
          assert.deepEqual(Object.keys(t.intermediate), ['1', '2', '3']);
        }
        const jobs = await s.jobs();
        assert.equal(jobs.length, 12);
        assert.ok(jobs.every((j) => j.state === 'done'));
        // the work was shared
        assert.ok(new Set(trials.map((t) => t.workerId)).size >= 2, 'more than one worker ran trials');
      } finally {
        await s.close();
      }
    });

    test('a worker whose main thread is busy for longer than the grace period keeps its trial', async () => {
      const url = await st.url();
      const s = await openStorage(url);
      try {
        // each fake epoch blocks the worker's main thread 2 s, the grace is 1 s: only heartbeats
        // from its own thread keep the trial its own while this process reaps every 50 ms
        const study = await s.createStudy('fn', 1, studyConfig(0, 2000));
        const w = startWorker(url, 'a', 1000);
        let exited = false;
        void w.done.then(() => (exited = true));
        let reaped = 0;
        while (!exited) {
          reaped += await s.reap({ graceMs: 1000 });
          await sleep(50);
        }
        assert.equal(await w.done, 0);
        assert.equal(reaped, 0);
        const trials = await s.trials(study.id);
        assert.deepEqual(
          trials.map((t) => [t.number, t.state, t.requeuedFrom]),
          [[0, 'complete', null]],
        );
      } finally {
        await s.close();
      }
    });

    test('a worker killed with SIGKILL mid-trial: its trial is re-queued and finished by another', async () => {
      const url = await st.url();
      const s = await openStorage(url);
      try {
        const study = await s.createStudy('fn', 12, studyConfig(150));
        const graceMs = 1000;
        const workers = new Map(['a', 'b', 'c'].map((id) => [id, startWorker(url, id, graceMs)]));
        // wait until worker 'a' is inside a trial (one epoch reported), then kill it
        let victim: number | null = null;
        for (let i = 0; i < 400 && victim === null; i++) {
          await sleep(25);
          const running = (await s.trials(study.id)).find(
            (t) => t.state === 'running' && t.workerId === 'a' && Object.keys(t.intermediate).length >= 1,
          );
          if (running) {
            workers.get('a')!.child.kill('SIGKILL');
            victim = running.number;
          }
        }
        assert.notEqual(victim, null, 'worker a ran a trial');
        assert.equal(await workers.get('a')!.done, 'SIGKILL');
        assert.deepEqual(await Promise.all([workers.get('b')!.done, workers.get('c')!.done]), [0, 0]);
        const trials = await s.trials(study.id);
        const killed = trials.find((t) => t.number === victim)!;
        assert.equal(killed.state, 'failed');
        assert.match(killed.error!, /worker a sent no heartbeat/);
        const rerun = trials.filter((t) => t.requeuedFrom === victim);
        assert.equal(rerun.length, 1, 'one re-run');
        assert.equal(rerun[0]!.state, 'complete');
        assert.deepEqual(rerun[0]!.params, killed.params);
        assert.ok(['b', 'c'].includes(rerun[0]!.workerId!));
        // 12 originals, each complete or re-run to completion; nothing waiting or running
        const originals = trials.filter((t) => t.requeuedFrom === null);
        assert.equal(originals.length, 12);
        for (const t of originals)
          assert.ok(t.state === 'complete' || (t.number === victim && rerun[0]!.state === 'complete'));
        assert.equal(trials.length, 13);
        assert.ok(trials.every((t) => t.state === 'complete' || t.number === victim));
      } finally {
        await s.close();
      }
    });
  });
}
