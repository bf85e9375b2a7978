// The post-processing prior from training labels (no prediction to score): a structure that is one
// connected component in the training labels gets keep-largest, which removes a far false positive;
// a label with two real components does not, so its second component survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyPostprocessing,
  choosePostprocessing,
  choosePostprocessingPrior,
  type LabelCase,
} from '../../src/postprocess/index.js';
import { fillBox, floodLabel } from './helpers.js';

const SHAPE: [number, number, number] = [12, 20, 20];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];
const vol = (): Uint8Array => new Uint8Array(N);

/** Components of the nonzero voxels (26-connectivity), by an independent flood fill. */
function foregroundComponents(m: Uint8Array): number {
  return floodLabel(
    Uint8Array.from(m, (v) => (v ? 1 : 0)),
    SHAPE,
    26,
  ).count;
}

/** Training labels: one organ (label 1) per case, at a slightly different place each time. */
function oneOrganCases(): LabelCase[] {
  return [0, 1, 2].map((k) => {
    const label = vol();
    fillBox(label, SHAPE, [2 + k, 8 + k], [4, 12], [4 + k, 12], 1);
    return { label, shape: SHAPE };
  });
}

/** Training labels: two separate kidneys under label 1 (left one a little smaller). */
function twoKidneyCases(): LabelCase[] {
  return [0, 1, 2].map((k) => {
    const label = vol();
    fillBox(label, SHAPE, [3, 9], [6, 12], [1, 6 + (k % 2)], 1);
    fillBox(label, SHAPE, [3, 9], [6, 12], [12, 18], 1);
    return { label, shape: SHAPE };
  });
}

test('one component in every training label: keep-largest is chosen and removes a far false positive', () => {
  const choice = choosePostprocessingPrior(oneOrganCases());
  assert.equal(choice.recipe.foreground, true);
  assert.deepEqual(choice.recipe.perLabel, { '1': true });
  assert.equal(choice.costs.foreground['1'], 0);
  assert.equal(choice.costs.cases, 3);
  assert.ok(Number.isNaN(choice.recipe.dice.before), 'no prediction was scored');
  assert.match(choice.why, /training label map/);
  // a prediction: the organ, nearly right, plus a blob far away
  const truth = vol();
  fillBox(truth, SHAPE, [3, 9], [4, 12], [5, 12], 1);
  const prediction = truth.slice();
  fillBox(prediction, SHAPE, [10, 12], [16, 19], [16, 19], 1);
  assert.equal(foregroundComponents(prediction), 2);
  const out = applyPostprocessing(prediction, SHAPE, choice.recipe);
  assert.deepEqual(out, truth, 'exactly the far blob removed');
});

test('two real components in the training labels: nothing is removed', () => {
  const choice = choosePostprocessingPrior(twoKidneyCases());
  assert.equal(choice.recipe.foreground, false);
  assert.deepEqual(choice.recipe.perLabel, { '1': false });
  // the cost of dropping the smaller kidney, by hand: Dice = 2·big / (big + big + small), per case
  const small = (k: number) => 6 * 6 * (5 + (k % 2));
  const big = 6 * 6 * 6;
  const expected = [0, 1, 2].map((k) => 1 - (2 * big) / (2 * big + small(k))).reduce((a, b) => a + b) / 3;
  assert.ok(Math.abs(choice.costs.foreground['1']! - expected) < 1e-12);
  assert.ok(Math.abs(choice.costs.perLabel['1']! - expected) < 1e-12);
  const prediction = vol();
  fillBox(prediction, SHAPE, [3, 9], [6, 12], [1, 5], 1);
  fillBox(prediction, SHAPE, [3, 9], [6, 12], [12, 18], 1);
  const out = applyPostprocessing(prediction, SHAPE, choice.recipe);
  assert.deepEqual(out, prediction, 'both kidneys kept');
  assert.equal(foregroundComponents(out), 2);
});

test('labels decide on their own: a one-piece label gets its step, a two-piece one keeps both pieces', () => {
  // label 1: one liver; label 2: two kidneys, apart from the liver (so the foreground has 3 pieces)
  const cases = [0, 1].map((k) => {
    const label = vol();
    fillBox(label, SHAPE, [1, 5], [2, 9 + k], [2, 18], 1);
    fillBox(label, SHAPE, [7, 11], [12, 17], [1, 5], 2);
    fillBox(label, SHAPE, [7, 11], [12, 17], [14, 18 + k], 2);
    return { label, shape: SHAPE };
  });
  const choice = choosePostprocessingPrior(cases);
  assert.equal(choice.recipe.foreground, false, 'the foreground step would drop the kidneys');
  assert.deepEqual(choice.recipe.perLabel, { '1': true, '2': false });
  const prediction = cases[0]!.label.slice();
  fillBox(prediction, SHAPE, [10, 12], [0, 2], [8, 11], 1); // a stray liver blob
  const out = applyPostprocessing(prediction, SHAPE, choice.recipe);
  assert.deepEqual(out, cases[0]!.label, 'the stray blob goes, both kidneys stay');
});

test('a small annotation island is tolerated up to the tolerance', () => {
  const cases = oneOrganCases();
  // one isolated voxel of label 1 in the first case, far from the organ
  cases[0]!.label[(11 * 20 + 19) * 20 + 19] = 1;
  const organ = 6 * 8 * 8;
  const cost = 1 - (2 * organ) / (2 * organ + 1);
  const choice = choosePostprocessingPrior(cases);
  // mean over the 3 cases: only the first pays
  assert.ok(Math.abs(choice.costs.foreground['1']! - cost / 3) < 1e-12);
  assert.equal(choice.recipe.foreground, true);
  // with a zero tolerance, the island alone turns the step off
  const strict = choosePostprocessingPrior(cases, { tolerance: 0 });
  assert.equal(strict.recipe.foreground, false);
  assert.deepEqual(strict.recipe.perLabel, { '1': false });
});

test('label maps given lazily, explicit labels, and bad options', () => {
  let calls = 0;
  const lazy = oneOrganCases().map((c) => () => {
    calls++;
    return c;
  });
  const choice = choosePostprocessingPrior(lazy, { labels: [1, 2] });
  assert.equal(calls, 3, 'each map read once when the labels are given');
  // label 2 is in no training map: no evidence, so no step for it
  assert.deepEqual(choice.recipe.perLabel, { '1': true, '2': false });
  assert.equal(choice.costs.perLabel['2'], null);
  assert.throws(() => choosePostprocessingPrior([]), /at least one label map/);
  assert.throws(
    () => choosePostprocessingPrior(oneOrganCases(), { tolerance: 1 }),
    /tolerance must be in \[0, 1\)/,
  );
  assert.throws(
    () => choosePostprocessingPrior([{ label: vol(), shape: [2, 2, 2] }]),
    /has 8 voxels but the data has/,
  );
});

test('validation ties go to the prior; a step the validation cases show harmful stays off', () => {
  const prior = choosePostprocessingPrior(oneOrganCases()).recipe;
  // a perfect validation prediction: no step changes it (a tie)
  const reference = vol();
  fillBox(reference, SHAPE, [3, 9], [4, 12], [5, 12], 1);
  const tie = [{ prediction: reference.slice(), reference, shape: SHAPE }];
  assert.equal(choosePostprocessing(tie).foreground, false, "find-best's default on a tie: off");
  const decided = choosePostprocessing(tie, { onTie: prior });
  assert.equal(decided.foreground, true);
  assert.deepEqual(decided.perLabel, { '1': true });
  assert.equal(decided.dice.after, 1, 'a tie: the Dice is unchanged');
  // a validation case with a real second piece the prediction finds: keep-largest would hurt it
  const twoPieces = reference.slice();
  fillBox(twoPieces, SHAPE, [0, 2], [16, 20], [16, 20], 1);
  const harmful = [{ prediction: twoPieces.slice(), reference: twoPieces, shape: SHAPE }];
  const kept = choosePostprocessing(harmful, { onTie: prior });
  assert.equal(kept.foreground, false, 'the validation evidence overrides the prior');
  assert.deepEqual(kept.perLabel, { '1': false });
});
