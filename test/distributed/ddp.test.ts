// Data-parallel training over Gloo on loopback, in real processes: 2 ranks end with the weights of
// 1 process trained on the doubled batch; a rank that dies stops the other with a clear error within
// the timeout; the --nproc launcher stops the others when one fails; a store that does not answer
// is one error naming host:port. The ranks are test/helpers/ddpRank.ts (the trainer's own step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, torchAvailable } from '../helpers/torchRef.js';
import {
  distributedBackends,
  freePort,
  launchLocalRanks,
  ProcessGroup,
} from '../../src/distributed/index.js';

const worker = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../helpers/ddpRank.js');
const gloo = distributedBackends().gloo;
const skip = gloo ? false : 'this addon was built without Gloo (install libgloo-dev and rebuild)';

type Weights = Record<string, number[]>;
const read = (file: string): Weights => JSON.parse(readFileSync(file, 'utf8')) as Weights;
function maxDiff(a: Weights, b: Weights): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  let m = 0;
  for (const k of Object.keys(a)) a[k]!.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[k]![i]!))));
  return m;
}

/** Runs the worker as one process (no rank variables); resolves to its exit code and stderr. */
function runWorker(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [worker], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    c.on('close', (code) => resolve({ code, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

test('2 ranks on loopback end with the weights of 1 process on the doubled batch', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-'));
  const env = { MEDSEG_DDP_OUT: path.join(dir, 'ddp'), DDP_STEPS: '3', DDP_TIMEOUT: '60' };
  // the launcher of --nproc runs both ranks
  const code = await launchLocalRanks({ nproc: 2, script: worker, args: [], env, log: () => {} });
  assert.equal(code, 0);
  assert.equal((await runWorker({ ...env, MEDSEG_DDP_OUT: path.join(dir, 'single') })).code, 0);
  assert.equal((await runWorker({ ...env, MEDSEG_DDP_OUT: path.join(dir, 'half'), DDP_HALF: '1' })).code, 0);
  assert.equal((await runWorker({ ...env, MEDSEG_DDP_OUT: path.join(dir, 'init'), DDP_STEPS: '0' })).code, 0);
  const [r0, r1, single, half, init] = [
    'ddp.rank0',
    'ddp.rank1',
    'single.rank0',
    'half.rank0',
    'init.rank0',
  ].map((f) => read(path.join(dir, `${f}.json`)));
  // the ranks hold one set of weights (rank 1 started from other ones: rank 0's were broadcast)
  assert.equal(maxDiff(r0!, r1!), 0);
  // the same as the doubled batch in one process, up to float32 summation order
  const d = maxDiff(r0!, single!);
  assert.ok(d < 5e-5, `2 ranks vs 1 process: max |Δw| ${d}`);
  // and far from what the tolerance could hide: training moved the weights, a rank alone differs
  assert.ok(maxDiff(single!, init!) > 1e-2, 'three steps moved the weights');
  assert.ok(maxDiff(half!, single!) > 100 * d + 1e-4, `half the batch alone: ${maxDiff(half!, single!)}`);
});

test('with loss scaling, an overflow on one rank makes every rank skip that step', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-'));
  const env = { DDP_STEPS: '3', DDP_TIMEOUT: '60', DDP_SCALER: '1', DDP_INF_AT: '1' };
  const code = await launchLocalRanks({
    nproc: 2,
    script: worker,
    args: [],
    env: { ...env, MEDSEG_DDP_OUT: path.join(dir, 'ddp') },
    log: () => {},
  });
  assert.equal(code, 0);
  assert.equal((await runWorker({ ...env, MEDSEG_DDP_OUT: path.join(dir, 'single') })).code, 0);
  const [r0, r1, single] = ['ddp.rank0', 'ddp.rank1', 'single.rank0'].map((f) =>
    read(path.join(dir, `${f}.json`)),
  );
  // only rank 1's loss overflowed, yet both skipped step 1 (as the single process did)
  assert.deepEqual(r0!.skippedSteps, [1]);
  assert.deepEqual(r1!.skippedSteps, [1]);
  assert.deepEqual(single!.skippedSteps, [1]);
  assert.equal(maxDiff(r0!, r1!), 0);
  const d = maxDiff(r0!, single!);
  assert.ok(d < 5e-5, `2 ranks vs 1 process: max |Δw| ${d}`);
});

test(
  'a rank that exits mid-run stops the other with an error naming the group, not a hang',
  { skip },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-'));
    const port = await freePort();
    const env = (rank: number) => ({
      MEDSEG_DDP_OUT: path.join(dir, 'w'),
      DDP_STEPS: '5',
      DDP_DIE_AT: '2',
      DDP_TIMEOUT: '20',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
      WORLD_SIZE: '2',
      RANK: String(rank),
    });
    const [r0, r1] = await Promise.all([runWorker(env(0)), runWorker(env(1))]);
    assert.equal(r1.code, 7);
    assert.equal(r0.code, 1);
    assert.match(
      r0.stderr,
      new RegExp(`rank 0: .*all-reduce failed \\(group at 127\\.0\\.0\\.1:${port}, timeout 20 s\\)`),
    );
    assert.ok(r0.seconds < 20, `rank 0 failed after ${r0.seconds} s`);
    assert.ok(!existsSync(path.join(dir, 'w.rank0.json')));
  },
);

test('the launcher stops the other ranks when one fails, and returns its exit code', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-'));
  const said: string[] = [];
  const t0 = performance.now();
  // rank 1 exits with 7 right after joining; rank 0 waits 600 s for a key nobody sets
  const code = await launchLocalRanks({
    nproc: 2,
    script: worker,
    args: [],
    env: { MEDSEG_DDP_OUT: path.join(dir, 'w'), DDP_HANG: '1', DDP_TIMEOUT: '600' },
    log: (s) => said.push(s),
    killGraceMs: 2000,
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(code, 7);
  assert.ok(seconds < 60, `the launcher took ${seconds} s`);
  assert.ok(
    said.some((s) => /rank 1 exited with code 7: stopping the other ranks/.test(s)),
    said.join('\n'),
  );
});

test(
  'a rendezvous store that does not answer: one error naming host:port within the timeout',
  { skip },
  async () => {
    const port = await freePort(); // free, so nothing listens there
    const t0 = performance.now();
    assert.throws(
      () =>
        ProcessGroup.join(
          { masterAddr: '127.0.0.1', masterPort: port, rank: 1, worldSize: 2, localRank: 1 },
          { timeoutSeconds: 2 },
        ),
      new RegExp(`rank 1 could not reach the rendezvous store at 127\\.0\\.0\\.1:${port} within 2 s`),
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 10, `${seconds} s`);
  },
);

test(
  "under torchrun's agent store (PyTorch's own TCPStore serving), rank 0 connects instead of serving",
  {
    skip: skip || (!torchAvailable() && "Debian's python3-torch is not installed (the agent's store)"),
  },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-'));
    const port = await freePort();
    // PyTorch's TCPStore, as torchrun's agent hosts it (Debian's torchrun itself fails on Python 3.11)
    const agent = spawn(
      PYTHON,
      [
        '-c',
        `import torch.distributed as d, datetime, time
s = d.TCPStore('127.0.0.1', ${port}, None, True, datetime.timedelta(seconds=60), wait_for_workers=False)
print('ready', flush=True)
time.sleep(120)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        agent.stdout.setEncoding('utf8').on('data', (s: string) => s.includes('ready') && resolve());
        agent.on('exit', (code) => reject(new Error(`the agent's store exited with ${code}`)));
      });
      const env = (rank: number) => ({
        MEDSEG_DDP_OUT: path.join(dir, 'agent'),
        DDP_STEPS: '1',
        DDP_TIMEOUT: '30',
        TORCHELASTIC_USE_AGENT_STORE: 'True',
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        WORLD_SIZE: '2',
        RANK: String(rank),
      });
      const [r0, r1] = await Promise.all([runWorker(env(0)), runWorker(env(1))]);
      assert.equal(r0.code, 0, r0.stderr);
      assert.equal(r1.code, 0, r1.stderr);
      const w0 = read(path.join(dir, 'agent.rank0.json'));
      assert.equal(maxDiff(w0, read(path.join(dir, 'agent.rank1.json'))), 0);
    } finally {
      agent.kill('SIGKILL');
    }
  },
);
