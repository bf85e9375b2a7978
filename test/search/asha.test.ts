// ASHA: rungs at 1, 3, 9, … epochs (η = 3); at a rung a trial continues only within the best third
// of the values recorded there so far (the best always continues).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ashaShouldStop, rungOf } from '../../src/search/asha.js';

test('rungs sit at minEpochs · η^k', () => {
  assert.deepEqual(
    Array.from({ length: 30 }, (_, e) => rungOf(e + 1))
      .map((r, i) => [i + 1, r])
      .filter(([, r]) => r >= 0),
    [
      [1, 0],
      [3, 1],
      [9, 2],
      [27, 3],
    ],
  );
  assert.deepEqual(
    [2, 4, 8, 16].map((e) => rungOf(e, { minEpochs: 2, eta: 2 })),
    [0, 1, 2, 3],
  );
});

test('a trial stops at a rung unless among the best 1/η there', () => {
  // alone, or best of few: continues
  assert.equal(ashaShouldStop(1, 0.1, []), false);
  assert.equal(ashaShouldStop(1, 0.5, [0.4, 0.2]), false);
  // 3 values: the best one only
  assert.equal(ashaShouldStop(1, 0.3, [0.4, 0.2]), true);
  // 6 values: the best two continue
  assert.equal(ashaShouldStop(3, 0.7, [0.9, 0.1, 0.2, 0.3, 0.4]), false);
  assert.equal(ashaShouldStop(3, 0.35, [0.9, 0.7, 0.1, 0.2, 0.3]), true);
  // not a rung: never stopped
  assert.equal(ashaShouldStop(2, 0, [0.9, 0.8, 0.7]), false);
  // a NaN value stops at a rung
  assert.equal(ashaShouldStop(1, NaN, [0.1, 0.2]), true);
});

test('a worker prunes with ASHA: stopped trials end at a rung, below the best third recorded there', async () => {
  const { openStorage } = await import('../../src/search/storage/open.js');
  const { runWorker } = await import('../../src/search/worker.js');
  const { TEST_FUNCTIONS } = await import('../../src/search/functions.js');
  const s = await openStorage('memory:');
  const study = await s.createStudy('fn', 20, {
    objective: 'function',
    function: 'hartmann6',
    space: TEST_FUNCTIONS.hartmann6!.space,
    sampler: 'random',
    seed: 4,
    pruning: { eta: 3, minEpochs: 1 },
    epochs: 9,
    epochMs: 0,
  });
  await runWorker({ storage: s, studies: ['fn'] });
  const trials = await s.trials(study.id);
  assert.equal(trials.length, 20);
  const pruned = trials.filter((t) => t.state === 'pruned');
  const complete = trials.filter((t) => t.state === 'complete');
  assert.ok(pruned.length >= 10, `${pruned.length} pruned`);
  assert.ok(complete.length >= 1);
  for (const t of complete) assert.equal(Object.keys(t.intermediate).length, 9);
  for (const t of pruned) {
    const epochs = Object.keys(t.intermediate).map(Number);
    const last = Math.max(...epochs);
    assert.ok([1, 3].includes(last), `pruned after epoch ${last}`);
    assert.equal(t.value, Math.max(...Object.values(t.intermediate)));
    // at its rung, values recorded by earlier trials put it outside the best third
    const earlier = trials.filter((o) => o.number < t.number && o.intermediate[last] !== undefined);
    const all = [...earlier.map((o) => o.intermediate[last]!), t.intermediate[last]!].sort((a, b) => b - a);
    assert.ok(t.intermediate[last]! < all[Math.max(1, Math.floor(all.length / 3)) - 1]!);
  }
});
