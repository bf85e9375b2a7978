// Choosing post-processing from cross-validation results: keep-largest is chosen only where it
// raises the mean Dice, with the foreground decision taken first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyPostprocessing,
  choosePostprocessing,
  dice,
  dicePerLabel,
  type CvCase,
  type PostprocessingRecipe,
} from '../../src/postprocess/index.js';
import { fillBox } from './helpers.js';

const SHAPE: [number, number, number] = [10, 16, 16];
const N = 10 * 16 * 16;

const vol = (): Uint8Array => new Uint8Array(N);

/** Mean over labels of the mean over cases of each label's Dice, on given predictions. */
function foregroundMean(cases: CvCase[], preds: Uint8Array[], labels: number[]): number {
  const per = labels.map((l) => {
    const ds = cases.map((c, k) => dice(preds[k]!, c.reference, l)).filter((d) => !Number.isNaN(d));
    return ds.reduce((s, d) => s + d, 0) / ds.length;
  });
  return per.reduce((s, d) => s + d, 0) / per.length;
}

/** The recipe's "after" must equal the Dice of the recipe actually applied. */
function assertAfterMatches(cases: CvCase[], recipe: PostprocessingRecipe, labels: number[]): void {
  const applied = cases.map((c) => applyPostprocessing(c.prediction as Uint8Array, c.shape, recipe));
  assert.ok(Math.abs(foregroundMean(cases, applied, labels) - recipe.dice.after) < 1e-12);
  const raw = cases.map((c) => c.prediction as Uint8Array);
  assert.ok(Math.abs(foregroundMean(cases, raw, labels) - recipe.dice.before) < 1e-12);
}

test('dice is exact and skips empty labels', () => {
  const p = new Uint8Array([1, 1, 0, 2, 0, 3]);
  const r = new Uint8Array([1, 0, 1, 2, 2, 0]);
  assert.equal(dice(p, r, 1), 0.5);
  assert.equal(dice(p, r, 2), 2 / 3);
  assert.equal(dice(p, r, 3), 0);
  assert.ok(Number.isNaN(dice(p, r, 4)));
  assert.equal(dice(p, r, 4, 1), 1);
  assert.deepEqual([...dicePerLabel(p, r, [1, 2, 3, 4])], [0.5, 2 / 3, 0, NaN]);
  assert.deepEqual([...dicePerLabel(new Int16Array([-1, 5, 1]), new Int16Array([-1, 5, 1]), [1])], [1]);
});

test('a spurious blob hurts Dice: keep-largest of the foreground is chosen', () => {
  const cases: CvCase[] = [0, 1, 2].map((k) => {
    const reference = vol();
    fillBox(reference, SHAPE, [1, 7], [2, 10], [2, 10], 1);
    const prediction = vol();
    fillBox(prediction, SHAPE, [1, 7], [2, 10 - (k % 2)], [2, 10], 1); // nearly right
    fillBox(prediction, SHAPE, [8, 10], [12, 16], [12, 15 - k], 1); // a false positive far away
    return { prediction, reference, shape: SHAPE };
  });
  const recipe = choosePostprocessing(cases);
  assert.equal(recipe.foreground, true);
  // after the foreground step nothing is left for the per-label step to improve
  assert.deepEqual(recipe.perLabel, { '1': false });
  assert.ok(recipe.dice.after > recipe.dice.before);
  assert.equal(recipe.connectivity, 26);
  assertAfterMatches(cases, recipe, [1]);
  // JSON round trip, and applying the parsed recipe gives the same maps
  const parsed = JSON.parse(JSON.stringify(recipe)) as PostprocessingRecipe;
  assert.deepEqual(parsed, recipe);
  for (const c of cases) {
    assert.deepEqual(
      applyPostprocessing(c.prediction, c.shape, parsed),
      applyPostprocessing(c.prediction, c.shape, recipe),
    );
  }
});

test('removing a real second part hurts Dice: nothing is chosen', () => {
  const cases: CvCase[] = [0, 1].map((k) => {
    // two kidneys: one label in two separate parts, both real
    const reference = vol();
    fillBox(reference, SHAPE, [1, 8], [2, 8], [1, 6], 1);
    fillBox(reference, SHAPE, [1, 8], [2, 8], [10, 14], 1);
    const prediction = vol();
    fillBox(prediction, SHAPE, [1, 8], [2, 8 - k], [1, 6], 1);
    fillBox(prediction, SHAPE, [1, 8], [3, 8], [10, 14], 1);
    return { prediction, reference, shape: SHAPE };
  });
  const recipe = choosePostprocessing(cases);
  assert.equal(recipe.foreground, false);
  assert.deepEqual(recipe.perLabel, { '1': false });
  assert.equal(recipe.dice.after, recipe.dice.before);
  assertAfterMatches(cases, recipe, [1]);
  for (const c of cases) assert.deepEqual(applyPostprocessing(c.prediction, c.shape, recipe), c.prediction);
});

/**
 * Label 1: a real organ plus a spurious label-1 blob. Label 2: a big part touching label 1 plus a real
 * small separate part. The foreground step helps label 1 more than it hurts label 2.
 */
function mixedCases(): CvCase[] {
  return [0, 1, 2].map((k) => {
    const reference = vol();
    fillBox(reference, SHAPE, [0, 6], [0, 8], [0, 8], 1);
    fillBox(reference, SHAPE, [0, 6], [0, 8], [8, 11], 2);
    fillBox(reference, SHAPE, [8, 9], [14, 16], [0, 2], 2);
    const prediction = reference.slice();
    fillBox(prediction, SHAPE, [7, 10], [8, 14], [8, 16 - k], 1); // spurious, bigger than label 2's real part
    return { prediction, reference, shape: SHAPE };
  });
}

test('the foreground step is refused when a label gets worse; per-label steps are decided after it', () => {
  const cases = mixedCases();
  const recipe = choosePostprocessing(cases);
  // the foreground step raises the mean but removes label 2's small real part: refused (nnU-Net's rule)
  assert.equal(recipe.foreground, false);
  // label 1 alone: dropping its spurious blob helps; label 2 alone: dropping its small part hurts
  assert.deepEqual(recipe.perLabel, { '1': true, '2': false });
  assert.equal(recipe.diceByLabel['1']!.after, 1);
  assert.equal(recipe.diceByLabel['2']!.after, 1);
  assert.ok(recipe.diceByLabel['1']!.before < 1);
  assertAfterMatches(cases, recipe, [1, 2]);

  // without the check the foreground step is taken; label 1 then has nothing left to gain
  const loose = choosePostprocessing(cases, { requireNoLabelWorse: false });
  assert.equal(loose.foreground, true);
  assert.deepEqual(loose.perLabel, { '1': false, '2': false });
  assert.ok(loose.diceByLabel['2']!.after < loose.diceByLabel['2']!.before);
  assert.ok(loose.dice.after > loose.dice.before);
  assertAfterMatches(cases, loose, [1, 2]);
  assert.ok(recipe.dice.after > loose.dice.after, 'the per-label route is better here');
});

test('a per-label step after an accepted foreground step, lazy cases, given labels and a custom Dice', () => {
  // label 1 and 2 touch; label 2 has a spurious blob touching label 1 too (one foreground component),
  // and a far false-positive of label 1 makes the foreground step worthwhile
  const make = (): CvCase => {
    const reference = vol();
    fillBox(reference, SHAPE, [0, 6], [0, 8], [0, 8], 1);
    fillBox(reference, SHAPE, [0, 6], [0, 8], [8, 11], 2);
    const prediction = reference.slice();
    fillBox(prediction, SHAPE, [0, 2], [8, 10], [0, 2], 2); // spurious label 2 touching label 1
    fillBox(prediction, SHAPE, [8, 10], [13, 16], [13, 16], 1); // far false positive
    return { prediction, reference, shape: SHAPE };
  };
  let calls = 0;
  const lazy = [0, 1].map(() => () => {
    calls++;
    return make();
  });
  const recipe = choosePostprocessing(lazy, { labels: [1, 2] });
  assert.equal(calls, 2, 'each case loaded once');
  assert.equal(recipe.foreground, true);
  assert.deepEqual(recipe.perLabel, { '1': false, '2': true });
  assert.equal(recipe.dice.after, 1);
  const cases = [make(), make()];
  assertAfterMatches(cases, recipe, [1, 2]);
  // a custom Dice (here the same rule with empty = 1) is used instead of the built-in one
  let used = 0;
  const custom = choosePostprocessing(cases, {
    dice: (p, r, l) => {
      used++;
      return dice(p, r, l, 1);
    },
  });
  assert.ok(used > 0);
  assert.deepEqual(custom.perLabel, recipe.perLabel);
  assert.equal(custom.foreground, true);
  assert.throws(() => choosePostprocessing([]), RangeError);
  assert.throws(() => choosePostprocessing(cases, { labels: [0] }), RangeError);
});
