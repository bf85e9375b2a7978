// Task sampling: draws over many steps follow n^α / Σ n^α (Pearson's χ² well under its 0.999 quantile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskOfStep, taskProbabilities } from '../../src/multitask/sampling.js';

test('task probabilities are n^α normalised; bad counts and α are refused', () => {
  const p = taskProbabilities([100, 25, 1], 0.5);
  assert.deepEqual(
    p.map((x) => +x.toFixed(12)),
    [10 / 16, 5 / 16, 1 / 16].map((x) => +x.toFixed(12)),
  );
  assert.deepEqual(taskProbabilities([7, 3], 0), [0.5, 0.5]);
  assert.deepEqual(taskProbabilities([3, 1], 1), [0.75, 0.25]);
  assert.throws(() => taskProbabilities([3, 0]), /≥ 1 training case/);
  assert.throws(() => taskProbabilities([3], -1), /alpha/);
});

test('drawn tasks follow the probabilities over 20 000 steps (χ² bound) and repeat per seed', () => {
  const cases = [200, 50, 8, 1];
  const p = taskProbabilities(cases, 0.5);
  const n = 20000;
  const counts = new Array<number>(cases.length).fill(0);
  for (let s = 0; s < n; s++) counts[taskOfStep(p, 3, s)]!++;
  const chi2 = counts.reduce((acc, c, i) => acc + (c - n * p[i]!) ** 2 / (n * p[i]!), 0);
  // 3 degrees of freedom: P(χ² > 16.27) = 0.001
  assert.ok(
    chi2 < 16.27,
    `χ² = ${chi2.toFixed(2)} for counts ${counts} vs expected ${p.map((x) => (x * n).toFixed(0))}`,
  );
  // the smallest task is drawn (not drowned) and the draw is a function of (seed, step)
  assert.ok(counts[3]! > 0);
  assert.equal(taskOfStep(p, 3, 123), taskOfStep(p, 3, 123));
  const other = Array.from({ length: 50 }, (_, s) => taskOfStep(p, 4, s));
  assert.notDeepEqual(
    other,
    Array.from({ length: 50 }, (_, s) => taskOfStep(p, 3, s)),
  );
});

test('task names come from the dataset folders; two folders of one name are refused', async () => {
  const { taskNames } = await import('../../src/multitask/tasks.js');
  assert.deepEqual(taskNames(['/a/Dataset001_Liver', 'b/Dataset 2 (MR)']), [
    'Dataset001_Liver',
    'Dataset_2__MR_',
  ]);
  assert.throws(() => taskNames(['/a/Liver', '/b/Liver']), /two datasets are both named Liver/);
});
