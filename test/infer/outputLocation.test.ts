// Predictions never land among the inputs: an output folder that is the input folder, holds the
// inputs, or is a dataset's imagesTr/labelsTr/imagesTs/labelsTs is refused with one line, by the
// library and by `medseg predict` before any model is loaded (the dataset still passes its check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { findInputCases } from '../../src/infer/inputs.js';
import { assertOutputOutsideInputs, isSingleFileOutput } from '../../src/infer/outputLocation.js';
import { checkDataset } from '../../src/dataset/check.js';
import { medseg } from '../cli/run.js';

async function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-outloc-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 1,
    size: 'tiny',
    cases: 2,
  });
  return { root, ds };
}

/** The refusal for predicting `input` into `output`, or null when it is allowed. */
function refusal(input: string, output: string, dicomSeg = false): string | null {
  const cases = findInputCases(input);
  try {
    assertOutputOutsideInputs(input, output, cases, isSingleFileOutput(cases, output, dicomSeg));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

test('output folders among the inputs or in a dataset are refused; elsewhere they are not', async () => {
  const { root, ds } = await setup();
  const imagesTr = path.join(ds, 'imagesTr');
  const files = readdirSync(imagesTr).sort();
  const first = path.join(imagesTr, files[0]!);
  assert.match(
    refusal(imagesTr, imagesTr)!,
    new RegExp(`^${imagesTr}: is the imagesTr folder of dataset ${ds}; `),
  );
  assert.match(refusal(imagesTr, path.join(ds, 'labelsTr'))!, /is the labelsTr folder of dataset/);
  assert.match(refusal(imagesTr, path.join(ds, 'imagesTs'))!, /is the imagesTs folder of dataset/);
  assert.match(refusal(first, path.join(imagesTr, 'seg.nii.gz'))!, /lies in the imagesTr folder of dataset/);
  assert.match(refusal(first, first)!, /is an input .*predictions never overwrite inputs/);

  // a plain folder of images (no dataset)
  const plain = path.join(root, 'scans');
  mkdirSync(plain);
  for (const f of files) copyFileSync(path.join(imagesTr, f), path.join(plain, f));
  const one = path.join(plain, files[0]!);
  assert.equal(
    refusal(plain, plain),
    `${plain}: is the input folder; choose another output folder for the label maps`,
  );
  assert.equal(
    refusal(plain, `${plain}/`),
    `${plain}/: is the input folder; choose another output folder for the label maps`,
  );
  assert.match(refusal(one, plain)!, new RegExp(`^${plain}: holds the input images \\(e\\.g\\. ${one}\\)`));
  const alias = path.join(root, 'alias');
  symlinkSync(plain, alias);
  assert.match(refusal(alias, plain)!, /is the input folder/);
  assert.match(refusal(plain, alias)!, /is the input folder/);
  // allowed: a new folder, a sibling folder, a single file next to its single input
  assert.equal(refusal(plain, path.join(root, 'pred')), null);
  assert.equal(refusal(imagesTr, path.join(root, 'pred', 'deeper')), null);
  assert.equal(refusal(one, path.join(plain, 'seg.nii.gz')), null);

  // a DICOM series folder: a SEG object (or a NIfTI) written into it would join the series
  const series = path.join(root, 'series');
  mkdirSync(series);
  for (const n of [1, 2, 3]) writeFileSync(path.join(series, `IM${n}.dcm`), '');
  assert.equal(
    refusal(series, path.join(series, 'seg.dcm'), true),
    `${path.join(series, 'seg.dcm')}: lies in the input DICOM series folder ${series}; write it outside the series`,
  );
  assert.match(refusal(series, path.join(series, 'seg.nii.gz'))!, /lies in the input DICOM series folder/);
  assert.match(refusal(series, series)!, /is the input folder/);
  assert.equal(refusal(series, path.join(root, 'seg.dcm'), true), null);
});

test('medseg predict -i DATASET/imagesTr -o DATASET/imagesTr: one line, nothing written', async () => {
  const { root, ds } = await setup();
  const imagesTr = path.join(ds, 'imagesTr');
  const before = readdirSync(imagesTr).sort();
  // the model folder does not even exist: the output is refused before any model is looked at
  const r = medseg(['predict', '-i', imagesTr, '-o', imagesTr, '-m', path.join(root, 'no-model')]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(
    r.stderr,
    new RegExp(`^medseg predict: ${imagesTr}: is the imagesTr folder of dataset ${ds}; `),
  );
  assert.deepEqual(readdirSync(imagesTr).sort(), before);
  assert.equal((await checkDataset(ds)).ok, true);
});
