// Shipped initialisations (`finetune --from general`): today none is shipped, and the name gets one
// line pointing at bench/RESULTS.md (library and CLI, nothing trained or written); the mechanism
// itself works: a package with its provenance in $MEDSEG_MODELS starts a fine-tuning run by name,
// and a package without provenance is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveShipped, shippedRoot } from '../../src/transfer/shipped.js';
import { finetune, type TransferRecord } from '../../src/transfer/finetune.js';
import { packageModel } from '../../src/transfer/package.js';
import { medseg } from '../cli/run.js';
import { ONE_STEP, synthDataset, tinyModel, tmp } from './fixtures.js';

test('finetune --from general: no shipped initialisation today, one line naming bench/RESULTS.md', async () => {
  assert.ok(!existsSync(path.join(shippedRoot(), 'general.medseg')), 'no weights are shipped');
  await assert.rejects(
    resolveShipped('general'),
    /^Error: no shipped initialisation 'general' .*see bench\/RESULTS\.md/,
  );
  const ds = await synthDataset('spleen');
  const out = path.join(tmp('ft-general'), 'model');
  const prev = process.env.MEDSEG_MODELS;
  delete process.env.MEDSEG_MODELS;
  try {
    const cli = medseg(['finetune', ds, '--from', 'general', '-m', out, '--epochs', '1']);
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /no shipped initialisation 'general'.*bench\/RESULTS\.md/);
    assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
    assert.ok(!existsSync(path.join(out, 'plans.json')));
  } finally {
    if (prev !== undefined) process.env.MEDSEG_MODELS = prev;
  }
});

test('a shipped initialisation resolves by name from $MEDSEG_MODELS, with its provenance', async () => {
  const { model, ds } = await tinyModel('hippocampus');
  const root = tmp('models');
  const pkg = path.join(root, 'general.medseg');
  await packageModel({ modelDir: model, output: pkg });
  const prev = process.env.MEDSEG_MODELS;
  process.env.MEDSEG_MODELS = root;
  try {
    // without its provenance: refused
    await assert.rejects(resolveShipped('general'), /general\.medseg has no general\.json/);
    writeFileSync(
      path.join(root, 'general.json'),
      JSON.stringify({
        name: 'general',
        description: 'a test initialisation',
        script: 'test/transfer/shipped.test.ts',
        command: 'medseg package ...',
        data: [{ name: 'synthetic hippocampus', source: 'medseg synth', licence: 'CC0' }],
        licence: 'CC0',
        measured: 'nowhere: a test',
      }),
    );
    const lines: string[] = [];
    const out = path.join(tmp('ft-shipped'), 'model');
    await finetune({
      dataset: ds,
      from: 'general',
      modelDir: out,
      ...ONE_STEP,
      cache: tmp('cache'),
      log: (s) => lines.push(s),
    });
    assert.ok(
      lines.some((l) =>
        /shipped initialisation 'general': a test initialisation; .*data synthetic hippocampus \(CC0\)/.test(
          l,
        ),
      ),
    );
    const rec = JSON.parse(readFileSync(path.join(out, 'transfer.json'), 'utf8')) as TransferRecord;
    assert.equal(rec.source.model, 'general');
    assert.ok(rec.weights!.filter((w) => w.fate === 'loaded').length > 10);
    // a provenance that lacks the data list is refused by its schema
    copyFileSync(pkg, path.join(root, 'other.medseg'));
    writeFileSync(path.join(root, 'other.json'), JSON.stringify({ name: 'other' }));
    await assert.rejects(resolveShipped('other'), /other\.json/);
  } finally {
    if (prev === undefined) delete process.env.MEDSEG_MODELS;
    else process.env.MEDSEG_MODELS = prev;
  }
});
