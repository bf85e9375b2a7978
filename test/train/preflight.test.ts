// A model folder training cannot write to is refused before training starts (before the dataset is
// read, the fingerprint computed or libtorch loaded), with one line naming the folder and why; and
// `medseg train` on hand-edited plans that are wrong exits non-zero with the schema's line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertWritableModelFolder } from '../../src/train/preflight.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { mountTmpfs } from '../helpers/mounts.js';
import { medseg } from '../cli/run.js';

const NOT_WRITABLE = 'the model folder is not writable';

test('a writable model folder is created and left without a probe file', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-preflight-'));
  const model = path.join(root, 'a', 'b');
  await assertWritableModelFolder(model);
  assert.deepEqual(readdirSync(model), []);
});

test('a file where the model folder should be: one line naming it', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-preflight-'));
  writeFileSync(path.join(root, 'file'), '');
  const model = path.join(root, 'file', 'model');
  await assert.rejects(assertWritableModelFolder(model), {
    message: `${model}: ${NOT_WRITABLE} (cannot create it: ENOTDIR: a file stands where a folder is needed); training writes plans, preprocessed cases, checkpoints and logs there: make it writable or choose another folder`,
  });
});

/** A read-only folder: a read-only tmpfs as root (root ignores permission bits), else chmod 555. */
function readOnlyFolder(t: import('node:test').TestContext): string {
  const m = mountTmpfs(t, 64, true);
  if (typeof m !== 'string') return m.dir;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ro-'));
  chmodSync(dir, 0o555);
  t.after(() => chmodSync(dir, 0o755));
  return dir;
}

test('medseg train into a read-only model folder fails at once, before reading the dataset', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-preflight-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 1,
    size: 'tiny',
    cases: 2,
  });
  const model = readOnlyFolder(t);
  await assert.rejects(assertWritableModelFolder(model), (e: Error) => {
    assert.match(
      e.message,
      new RegExp(`^${model}: ${NOT_WRITABLE} \\(cannot create a file in it: (EROFS|EACCES)`),
    );
    return true;
  });
  const r = medseg(['train', ds, '--model', model, '--epochs', '1', '--threads', '1']);
  assert.equal(r.status, 1, r.stderr);
  // one line, and nothing ran before it (no fingerprint, no preprocessing log)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^medseg train: ${model}: ${NOT_WRITABLE}`));
  assert.deepEqual(readdirSync(model), []);
});

test('medseg train on plans.json edited wrongly exits 1 with one line naming the file and field', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-badplans-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 1,
    size: 'tiny',
    cases: 2,
  });
  const model = path.join(root, 'model');
  const { plansFile } = await plan(ds, model, { memoryGb: 1 });
  const edited = JSON.parse(readFileSync(plansFile, 'utf8'));
  edited.configurations['3d_fullres'].patch = 'big';
  writeFileSync(plansFile, JSON.stringify(edited, null, 2));
  const r = medseg([
    'train',
    ds,
    '--model',
    model,
    '--epochs',
    '1',
    '--iters-per-epoch',
    '1',
    '--threads',
    '1',
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(
    r.stderr.trim().split('\n').at(-1),
    `medseg train: ${plansFile}: configurations.3d_fullres.patch: expected an array, got "big"`,
  );
  assert.equal(existsSync(path.join(model, '3d_fullres')), false, 'no training started');
});
