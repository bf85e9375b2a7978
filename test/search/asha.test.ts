// ASHA: rungs at 1, 3, 9, … epochs (η = 3); at a rung a trial continues only within the best third
// of the values recorded there so far (the best always continues).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ashaShouldStop, rungOf } from '../../src/search/asha.js';

test('rungs sit at minEpochs · η^k', () => {
  assert.deepEqual(
    Array.from({ length: 30 }, (_, e) => rungOf(e + 1)).map((r, i) => [i + 1, r]).filter(([, r]) => r >= 0),
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
