// The three stores behave the same: studies, trials up to their target, job claims in
// transactions, heartbeats, per-epoch values, and the take-over of a dead worker's job (failed,
// re-queued with its lineage; the old worker's late reports refused). PostgreSQL runs for real
// (a throwaway server, see postgres.ts) and is skipped with the reason when it is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openStorage } from '../../src/search/storage/open.js';
import type { Storage } from '../../src/search/storage/types.js';
import { freshDatabase, pgSkipReason, startPostgres, type PgServer } from './postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: PgServer | null = null;
const pgSkip = pgSkipReason();

before(async () => {
  if (!pgSkip) server = await startPostgres();
});
after(() => server?.stop());

const backends: { name: string; skip: string | false; url: () => Promise<string> }[] = [
  { name: 'memory', skip: false, url: () => Promise.resolve('memory:') },
  {
    name: 'sqlite',
    skip: false,
    url: () =>
      Promise.resolve(`sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'medseg-st-')), 's.sqlite')}`),
  },
  { name: 'postgresql', skip: pgSkip ?? false, url: () => freshDatabase(server!) },
];

for (const b of backends) {
  describe(`storage: ${b.name}`, { skip: b.skip }, () => {
    test('a study is created once; asking again raises its target and keeps its config', async () => {
      const s = await openStorage(await b.url());
      try {
        const a = await s.createStudy('st', 3, { space: { x: 1 } });
        const again = await s.createStudy('st', 5, { other: true });
        assert.equal(again.id, a.id);
        assert.equal(again.target, 5);
        assert.deepEqual(again.config, { space: { x: 1 } });
        assert.equal((await s.getStudy('st'))!.target, 5);
        assert.equal(await s.getStudy('nope'), null);
        assert.deepEqual(
          (await s.listStudies()).map((x) => x.name),
          ['st'],
        );
      } finally {
        await s.close();
      }
    });

    test('trials start up to the target, numbered in order, each proposal seeing the trials before it', async () => {
      const s = await openStorage(await b.url());
      try {
        const st = await s.createStudy('st', 3, {});
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await s.startTrial(st.id, 'w1', (trials) => {
            seen.push(trials.length);
            return { x: i * 10, c: 'a', b: i % 2 === 0 };
          });
          assert.ok(r);
          assert.equal(r.trial.number, i);
          assert.equal(r.trial.state, 'running');
          assert.equal(r.job.state, 'running');
          assert.equal(r.job.workerId, 'w1');
        }
        assert.deepEqual(seen, [0, 1, 2]);
        assert.equal(await s.startTrial(st.id, 'w1', () => ({ x: 0 })), null);
        const trials = await s.trials(st.id);
        assert.deepEqual(
          trials.map((t) => t.params),
          [
            { x: 0, c: 'a', b: true },
            { x: 10, c: 'a', b: false },
            { x: 20, c: 'a', b: true },
          ],
        );
        // queued trials count towards the target too
        const st2 = await s.createStudy('st2', 1, {});
        assert.ok(await s.enqueueTrial(st2.id, { x: 1 }));
        assert.equal(await s.enqueueTrial(st2.id, { x: 2 }), null);
        assert.equal(await s.startTrial(st2.id, 'w', () => ({ x: 3 })), null);
        const job = await s.claim('w2', { graceMs: 60000 });
        assert.equal(job?.kind, 'trial');
        assert.equal(job?.trialNumber, 0);
        assert.equal((await s.trials(st2.id))[0]!.state, 'running');
      } finally {
        await s.close();
      }
    });

    test('a job is claimed once; only its worker reports, beats and finishes it', async () => {
      const s = await openStorage(await b.url());
      try {
        const st = await s.createStudy('st', 2, {});
        const fold = await s.enqueueJob('fold', { fold: 3 });
        assert.equal(fold.state, 'waiting');
        const got = await s.claim('w1', { graceMs: 60000 });
        assert.equal(got?.id, fold.id);
        assert.deepEqual(got?.payload, { fold: 3 });
        assert.equal(await s.claim('w2', { graceMs: 60000 }), null);
        assert.equal(await s.heartbeat(fold.id, 'w2'), false);
        assert.equal(await s.heartbeat(fold.id, 'w1'), true);
        assert.equal(await s.finish(fold.id, 'w2', { state: 'complete' }), false);
        assert.equal(await s.finish(fold.id, 'w1', { state: 'complete', result: { dice: 0.5 } }), true);
        assert.equal(await s.finish(fold.id, 'w1', { state: 'complete' }), false, 'finished once');
        const j = (await s.jobs()).find((x) => x.id === fold.id)!;
        assert.equal(j.state, 'done');
        assert.deepEqual(j.result, { dice: 0.5 });

        const t = (await s.startTrial(st.id, 'w1', () => ({ lr: 0.01 })))!;
        assert.equal(await s.report(t.job.id, 'w2', 1, 0.3), false);
        assert.equal(await s.report(t.job.id, 'w1', 1, 0.3), true);
        assert.equal(await s.report(t.job.id, 'w1', 2, 0.5), true);
        assert.equal(
          await s.report(t.job.id, 'w1', 2, 0.6),
          true,
          'an epoch reported again replaces its value',
        );
        const u = (await s.startTrial(st.id, 'w2', () => ({ lr: 0.1 })))!;
        assert.equal(await s.report(u.job.id, 'w2', 1, 0.1), true);
        assert.deepEqual(await s.valuesAt(st.id, 1), [
          { number: 0, value: 0.3 },
          { number: 1, value: 0.1 },
        ]);
        assert.deepEqual(await s.valuesAt(st.id, 2), [{ number: 0, value: 0.6 }]);
        assert.equal(await s.finish(t.job.id, 'w1', { state: 'complete', value: 0.6 }), true);
        assert.equal(await s.finish(u.job.id, 'w2', { state: 'failed', error: 'depth 9: too deep' }), true);
        const trials = await s.trials(st.id);
        assert.deepEqual(
          trials.map((x) => [x.state, x.value, x.error]),
          [
            ['complete', 0.6, null],
            ['failed', null, 'depth 9: too deep'],
          ],
        );
        assert.deepEqual(trials[0]!.intermediate, { 1: 0.3, 2: 0.6 });
        assert.equal((await s.jobs()).find((x) => x.id === u.job.id)!.state, 'failed');
      } finally {
        await s.close();
      }
    });

    test("a silent worker's jobs are failed and re-queued with their lineage; its late result is refused", async () => {
      const s = await openStorage(await b.url());
      try {
        const st = await s.createStudy('st', 2, {});
        const t = (await s.startTrial(st.id, 'dead', () => ({ lr: 0.02 })))!;
        await s.report(t.job.id, 'dead', 1, 0.4);
        const fold = await s.enqueueJob('fold', { fold: 1 });
        assert.equal((await s.claim('dead', { graceMs: 60000 }))?.id, fold.id);
        await sleep(300);
        // a live worker beating keeps its job
        const live = (await s.startTrial(st.id, 'alive', () => ({ lr: 0.03 })))!;
        assert.equal(await s.heartbeat(live.job.id, 'alive'), true);
        const next = await s.claim('w2', { graceMs: 200 });
        assert.ok(next);
        const jobs = await s.jobs();
        const old = jobs.find((j) => j.id === t.job.id)!;
        assert.equal(old.state, 'failed');
        assert.match(old.error!, /worker dead sent no heartbeat .*re-queued/);
        assert.equal(jobs.find((j) => j.id === fold.id)!.state, 'failed');
        assert.equal(jobs.find((j) => j.id === live.job.id)!.state, 'running');
        // the re-queued fold keeps its payload and points at the job it replaces
        const refold = jobs.find((j) => j.requeuedFrom === fold.id)!;
        assert.deepEqual(refold.payload, { fold: 1 });
        assert.equal(refold.attempt, 2);
        const trials = await s.trials(st.id);
        assert.equal(trials.length, 3);
        const again = trials.find((x) => x.requeuedFrom === 0)!;
        assert.deepEqual(again.params, { lr: 0.02 });
        assert.equal(trials[0]!.state, 'failed');
        assert.match(trials[0]!.error!, /presumed dead/);
        // one of the two re-queued jobs was claimed by w2 (the older first), the other waits
        assert.equal(next.requeuedFrom, t.job.id);
        assert.equal(next.trialNumber, again.number);
        assert.equal(again.state, 'running');
        // the dead worker comes back: everything it says is refused, nothing counts twice
        assert.equal(await s.heartbeat(t.job.id, 'dead'), false);
        assert.equal(await s.report(t.job.id, 'dead', 2, 0.9), false);
        assert.equal(await s.finish(t.job.id, 'dead', { state: 'complete', value: 0.9 }), false);
        assert.equal((await s.trials(st.id))[0]!.value, null);
        // re-queues do not count towards the target: the study is full with 2 originals
        assert.equal(await s.startTrial(st.id, 'w3', () => ({ lr: 1 })), null);
      } finally {
        await s.close();
      }
    });

    test('a job whose workers keep dying is re-queued up to maxAttempts, then stays failed', async () => {
      const s = await openStorage(await b.url());
      try {
        await s.enqueueJob('predict-shard', { shard: 0, shards: 2 });
        for (let attempt = 1; attempt <= 2; attempt++) {
          const j = await s.claim(`w${attempt}`, { graceMs: 100, maxAttempts: 2 });
          assert.equal(j?.attempt, attempt);
          await sleep(200);
        }
        assert.equal(await s.claim('w3', { graceMs: 100, maxAttempts: 2 }), null);
        const jobs = await s.jobs();
        assert.deepEqual(
          jobs.map((j) => j.state),
          ['failed', 'failed'],
        );
        assert.match(jobs[1]!.error!, /not re-queued after 2 attempts/);
      } finally {
        await s.close();
      }
    });

    test('concurrent claims take each job exactly once', async () => {
      const url = await b.url();
      const s = await openStorage(url);
      // a second connection to the same store where there can be one (two processes in practice)
      const s2 = b.name === 'memory' ? s : await openStorage(url);
      try {
        for (let i = 0; i < 30; i++) await s.enqueueJob('fold', { i });
        const taken: number[] = [];
        const claimer = async (st: Storage, id: string) => {
          for (;;) {
            const j = await st.claim(id, { graceMs: 60000 });
            if (!j) return;
            taken.push((j.payload as { i: number }).i);
            await st.finish(j.id, id, { state: 'complete' });
          }
        };
        await Promise.all([claimer(s, 'a'), claimer(s2, 'b'), claimer(s, 'c'), claimer(s2, 'd')]);
        assert.deepEqual(
          [...taken].sort((x, y) => x - y),
          Array.from({ length: 30 }, (_, i) => i),
        );
      } finally {
        if (s2 !== s) await s2.close();
        await s.close();
      }
    });
  });
}

test('a PostgreSQL server that does not answer: one error naming host and port, within seconds', async () => {
  // a TCP server that accepts and never says anything
  const silent = net.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const t0 = performance.now();
  try {
    await assert.rejects(
      openStorage(`postgresql://u:secret@127.0.0.1:${port}/db`, { connectTimeoutMs: 1000 }),
      (e: Error) => {
        assert.match(e.message, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}`));
        assert.match(e.message, /no answer within 1 s/);
        assert.doesNotMatch(e.message, /secret/);
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 5000);
  } finally {
    silent.close();
  }
  // nothing listening at all: refused at once, also named
  await assert.rejects(
    openStorage(`postgresql://u@127.0.0.1:${port}/db`),
    new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`),
  );
});

test('a SQLite store in a folder that does not exist, or an unknown scheme: one error naming it', async () => {
  await assert.rejects(
    openStorage('mysql://u@h:3306/db'),
    /unknown storage URL scheme 'mysql' in mysql:\/\/u@h:3306\/db/,
  );
  await assert.rejects(
    openStorage('sqlite:/nonexistent/medseg/s.sqlite'),
    /folder \/nonexistent\/medseg does not exist/,
  );
});
