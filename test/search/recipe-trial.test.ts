// The recipe's knobs in a search: a space over the Dice/CE weights, oversampling and augmentation
// is accepted; each trial's plans.json carries the values it sampled (where the trainer reads them);
// a trial whose weights are both 0 fails with that reason and the study goes on; `search best
// --write-plans` hands the best trial's values on to the model's plans.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { search, writeBestPlans } from '../../src/search/study.js';
import { applyParams, TrialPlanError } from '../../src/search/trialPlan.js';
import { validateSpace } from '../../src/search/space.js';
import { readPlans, type Plans } from '../../src/plan/schema.js';

test('recipe options in a search: the trial plans carry the sampled values; both weights 0 fails that trial', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-search-recipe-'));
  try {
    const ds = (await writeSynthDataset(findTask('hippocampus'), root, { seed: 4, size: 'tiny', cases: 4 }))
      .dir;
    const model = path.join(root, 'model');
    const space = validateSpace({
      diceWeight: { type: 'float', low: 0, high: 2 },
      ceWeight: { type: 'choice', values: [0, 0.5, 1] },
      oversampling: { type: 'float', low: 0, high: 1 },
      augmentation: { type: 'float', low: 0, high: 3 },
      width: { type: 'choice', values: [4] },
    });
    const r = await search({
      dataset: ds,
      modelDir: model,
      trials: 3,
      space,
      enqueue: [{ diceWeight: 0, ceWeight: 0, oversampling: 0.5, augmentation: 1, width: 4 }],
      sampler: 'random',
      pruning: false,
      epochs: 1,
      itersPerEpoch: 1,
      memoryGb: 1,
      threads: 1,
      seed: 3,
    });
    assert.equal(r.trials.length, 3);
    assert.equal(r.trials[0]!.state, 'failed');
    assert.match(r.trials[0]!.error!, /the Dice and CE weights are both 0/);
    let checked = 0;
    for (const t of r.trials.slice(1)) {
      const p = t.params as Record<string, number>;
      if (p.diceWeight === 0 && p.ceWeight === 0) continue; // sampled both 0: failed as above
      assert.equal(t.state, 'complete', t.error ?? '');
      const file = path.join(model, 'trials', `trial_${String(t.number).padStart(4, '0')}`, 'plans.json');
      const c = (await readPlans(file)).configurations['3d_fullres']!;
      assert.deepEqual(c.lossWeights, { dice: p.diceWeight, ce: p.ceWeight });
      assert.equal(c.foregroundOversampling, p.oversampling);
      assert.equal(c.augmentationStrength, p.augmentation);
      checked++;
    }
    assert.ok(checked >= 1, 'at least one trial trained');
    // best --write-plans: the model's plans.json now carries the best trial's values
    const best = await writeBestPlans({ modelDir: model });
    const written = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
    const bp = best.best.params as Record<string, number>;
    assert.equal(written.configurations['3d_fullres']!.augmentationStrength, bp.augmentation);
    assert.equal(written.configurations['3d_fullres']!.foregroundOversampling, bp.oversampling);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('applyParams: one weight keeps the other at the plan’s (else 1); the result is a valid plan', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-recipe-plan-'));
  try {
    const ds = (await writeSynthDataset(findTask('hippocampus'), root, { seed: 4, size: 'tiny', cases: 2 }))
      .dir;
    const { plan } = await import('../../src/plan/run.js');
    const { plans } = await plan(ds, path.join(root, 'model'), { memoryGb: 1 });
    const c = (p: Plans) => p.configurations['3d_fullres']!;
    assert.deepEqual(c(applyParams(plans, '3d_fullres', { ceWeight: 0.25 })).lossWeights, {
      dice: 1,
      ce: 0.25,
    });
    const withPlan = structuredClone(plans);
    c(withPlan).lossWeights = { dice: 2, ce: 0 };
    assert.deepEqual(c(applyParams(withPlan, '3d_fullres', { ceWeight: 0.5 })).lossWeights, {
      dice: 2,
      ce: 0.5,
    });
    assert.throws(
      () => applyParams(withPlan, '3d_fullres', { diceWeight: 0 }),
      (e: Error) => e instanceof TrialPlanError && /both 0/.test(e.message),
    );
    // no recipe parameter: the configuration keeps no recipe field (train's defaults apply)
    const plain = c(applyParams(plans, '3d_fullres', { width: 4 }));
    assert.equal(plain.lossWeights, undefined);
    assert.equal(plain.foregroundOversampling, undefined);
    assert.equal(plain.augmentationStrength, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
