// The preprocessed cache: reused only while the case's files and the preprocessing the plan asks for
// are unchanged. An edited plans.json (plans are the user's to edit) or a replaced image must be
// preprocessed again, never trained on stale data. New plans crop by the background rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { prepare } from '../../src/train/prepare.js';

test('prepare re-preprocesses after a plan edit or a changed image, and reuses the cache otherwise', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-prepcache-'));
  const ds = await writeSynthDataset(findTask('hippocampus'), path.join(root, 'data'), {
    seed: 3,
    size: 'tiny',
    cases: 2,
  });
  const model = path.join(root, 'model');
  const run = async () => {
    const lines: string[] = [];
    const p = await prepare(ds.dir, model, '3d_fullres', { memoryGb: 1, log: (s) => lines.push(s) });
    return { p, preprocessed: lines.filter((l) => l.startsWith('preprocess ')).length };
  };
  const first = await run();
  assert.equal(first.preprocessed, 2);
  assert.equal(first.p.fingerprint.crop, 'background');
  assert.equal(first.p.config.crop, 'background');
  assert.equal((await run()).preprocessed, 0, 'unchanged: the cache is reused');

  // the user edits the plan's target spacing: every case is preprocessed again, at the new spacing
  const plansFile = path.join(model, 'plans.json');
  const plans = JSON.parse(readFileSync(plansFile, 'utf8'));
  const c = plans.configurations['3d_fullres'];
  const was = first.p.cases[0]!.shape;
  c.spacing = c.spacing.map((s: number) => s * 2);
  writeFileSync(plansFile, JSON.stringify(plans, null, 2));
  const edited = await run();
  assert.equal(edited.preprocessed, 2);
  assert.ok(
    edited.p.cases[0]!.shape.every((s, d) => s < was[d]!),
    `coarser spacing, smaller grid: [${edited.p.cases[0]!.shape}] vs [${was}]`,
  );
  assert.equal((await run()).preprocessed, 0);

  // one image file changes (its time): that case alone is preprocessed again
  const image = edited.p.dataset.training[0]!.channels[0]!.path;
  const later = new Date(Date.now() + 5000);
  utimesSync(image, later, later);
  assert.equal((await run()).preprocessed, 1);
});
