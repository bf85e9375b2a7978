// Prediction inputs: nnU-Net channel naming in folders and for a single case's first file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findInputCases } from '../../src/infer/inputs.js';

test('channel files group into cases; a first channel file brings its siblings', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-inputs-'));
  for (const f of [
    'a_0000.nii.gz',
    'a_0001.nii.gz',
    'b_0000.nii.gz',
    'b_0001.nii.gz',
    'single.nrrd',
    'notes.txt',
  ]) {
    writeFileSync(path.join(dir, f), '');
  }
  const cases = findInputCases(dir);
  assert.deepEqual(
    cases.map((c) => [c.id, c.files.map((f) => path.basename(f))]),
    [
      ['a', ['a_0000.nii.gz', 'a_0001.nii.gz']],
      ['b', ['b_0000.nii.gz', 'b_0001.nii.gz']],
      ['single', ['single.nrrd']],
    ],
  );
  const one = findInputCases(path.join(dir, 'b_0000.nii.gz'));
  assert.deepEqual(
    one[0]!.files.map((f) => path.basename(f)),
    ['b_0000.nii.gz', 'b_0001.nii.gz'],
  );
  assert.equal(one[0]!.id, 'b');
  writeFileSync(path.join(dir, 'c_0000.nii.gz'), '');
  writeFileSync(path.join(dir, 'c_0002.nii.gz'), '');
  assert.throws(() => findInputCases(dir), /case c has channel files 0, 2/);
  assert.throws(() => findInputCases(path.join(dir, 'missing.nii.gz')), /no such file/);
});
