// The rank environment (torchrun's variables) and the CLI's reading of --nproc beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankEnvFrom, rankSeed, planBuckets, oversubscription } from '../../src/distributed/index.js';
import { rankPlan } from '../../src/cli/ranks.js';
import { zeros, Tensor } from '../../src/engine/index.js';

const full = {
  MASTER_ADDR: 'node-1.cluster',
  MASTER_PORT: '29500',
  RANK: '3',
  WORLD_SIZE: '8',
  LOCAL_RANK: '1',
};

test('no variables: a single-process run; all of them: the rank', () => {
  assert.equal(rankEnvFrom({}), null);
  assert.deepEqual(rankEnvFrom(full), {
    masterAddr: 'node-1.cluster',
    masterPort: 29500,
    rank: 3,
    worldSize: 8,
    localRank: 1,
  });
  // LOCAL_RANK may be left out (one rank per machine): 0
  const { LOCAL_RANK: _, ...noLocal } = full;
  assert.equal(rankEnvFrom(noLocal)!.localRank, 0);
  // under torchrun the agent serves the store: rank 0 connects to it
  assert.equal(rankEnvFrom({ ...full, TORCHELASTIC_USE_AGENT_STORE: 'True' })!.agentStore, true);
});

test('half a set or a bad value: one error naming the variable', () => {
  assert.throws(() => rankEnvFrom({ RANK: '0', WORLD_SIZE: '2' }), /MASTER_ADDR, MASTER_PORT are not/);
  assert.throws(
    () => rankEnvFrom({ ...full, MASTER_PORT: '70000' }),
    /MASTER_PORT='70000' must be an integer from 1 to 65535/,
  );
  assert.throws(() => rankEnvFrom({ ...full, MASTER_PORT: 'http' }), /MASTER_PORT='http'/);
  assert.throws(() => rankEnvFrom({ ...full, RANK: '8' }), /RANK='8' must be an integer from 0 to 7/);
  assert.throws(() => rankEnvFrom({ ...full, RANK: '-1' }), /RANK='-1'/);
  assert.throws(() => rankEnvFrom({ ...full, WORLD_SIZE: '0' }), /WORLD_SIZE='0'/);
  assert.throws(() => rankEnvFrom({ ...full, WORLD_SIZE: '2.5' }), /WORLD_SIZE='2.5'/);
  assert.throws(() => rankEnvFrom({ ...full, LOCAL_RANK: 'x' }), /LOCAL_RANK='x'/);
  assert.throws(() => rankEnvFrom({ ...full, MASTER_ADDR: 'a b' }), /MASTER_ADDR='a b' is not a host name/);
});

test('--nproc: launch, join or refuse a disagreement with WORLD_SIZE', () => {
  assert.deepEqual(rankPlan({}, {}), { kind: 'single' });
  assert.deepEqual(rankPlan({ nproc: '1' }, {}), { kind: 'single' });
  assert.deepEqual(rankPlan({ nproc: '2' }, {}), { kind: 'launch', nproc: 2 });
  const r = rankPlan({ nproc: '8', 'dist-timeout': '10s' }, full);
  assert.equal(r.kind, 'rank');
  assert.equal(r.kind === 'rank' && r.timeoutSeconds, 10);
  assert.throws(() => rankPlan({ nproc: '2' }, full), /--nproc 2 disagrees with WORLD_SIZE=8/);
  assert.throws(() => rankPlan({ nproc: '0' }, {}), /nproc/);
  assert.throws(() => rankPlan({}, { RANK: '1' }), /MASTER_ADDR, MASTER_PORT, WORLD_SIZE are not/);
});

test('more ranks than cores: a warning', () => {
  assert.match(oversubscription(4, 2)!, /--nproc 4 is more than this machine's 2 core/);
  assert.equal(oversubscription(2, 2), null);
});

test('rank 0 keeps the run seed; the others get their own, the same every time', () => {
  assert.equal(rankSeed(42, 0), 42);
  const seeds = [1, 2, 3].map((r) => rankSeed(42, r));
  assert.equal(new Set([42, ...seeds]).size, 4);
  assert.deepEqual(
    [1, 2, 3].map((r) => rankSeed(42, r)),
    seeds,
  );
  assert.notEqual(rankSeed(43, 1), seeds[0]);
});

test('buckets: consecutive tensors of one dtype up to the byte limit; a large tensor alone', () => {
  const ts = [
    zeros([10]),
    zeros([10]),
    zeros([100]),
    zeros([10]),
    zeros([5], { dtype: 'float64' }),
    zeros([5]),
  ];
  const sizes = (bs: Tensor[][]) => bs.map((b) => b.map((t) => t.numel));
  // 10+10 floats = 80 bytes fit in 100; 100 floats (400 bytes) stand alone; float64 breaks a bucket
  assert.deepEqual(sizes(planBuckets(ts, 100)), [[10, 10], [100], [10], [5], [5]]);
  assert.deepEqual(sizes(planBuckets(ts, 1 << 20)), [[10, 10, 100, 10], [5], [5]]);
  assert.throws(() => planBuckets(ts, 0), /bucketBytes must be positive/);
  for (const t of ts) t.dispose();
});
