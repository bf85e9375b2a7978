// The dataset check on small datasets written to disk: one clean, one with a different problem in
// nearly every case, which must all come out in one run, each under its own case.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertDatasetValid, checkDataset, DatasetInvalidError } from '../../src/dataset/check.js';
import { boxLabel, tmpDir, vol, write, writeJson } from './fixtures.js';

const S = [4, 4, 3];

async function v2Dataset(dir: string, cases: string[], numTraining = cases.length): Promise<void> {
  writeJson(path.join(dir, 'dataset.json'), {
    channel_names: { '0': 'T1', '1': 'T2' },
    labels: { background: 0, lesion: 1 },
    numTraining,
    file_ending: '.nii.gz',
  });
  for (const id of cases) {
    await write(
      path.join(dir, 'imagesTr', `${id}_0000.nii.gz`),
      vol(S, (i) => i),
    );
    await write(
      path.join(dir, 'imagesTr', `${id}_0001.nii.gz`),
      vol(S, (i) => 2 * i),
    );
    await write(path.join(dir, 'labelsTr', `${id}.nii.gz`), boxLabel(S));
  }
}

test('a clean dataset passes and is returned by assertDatasetValid', async (t) => {
  const dir = tmpDir(t);
  await v2Dataset(dir, ['a', 'b', 'c']);
  const r = await checkDataset(dir);
  assert.ok(r.ok, r.report);
  assert.equal(r.errorCount, 0);
  assert.equal(r.warningCount, 0);
  assert.deepEqual(
    r.cases.map((c) => [c.id, c.shape, c.labelCounts]),
    ['a', 'b', 'c'].map((id) => [id, S, { '0': 36, '1': 12 }]),
  );
  assert.match(r.report, /^OK: 0 errors, 0 warnings$/m);
  const ds = await assertDatasetValid(dir);
  assert.equal(ds.training.length, 3);
});

test('every problem is reported at once, case by case', async (t) => {
  const dir = tmpDir(t);
  const ok = ['ok1', 'ok2', 'ok3'];
  await v2Dataset(
    dir,
    [...ok, 'shape', 'shift', 'nan', 'values', 'fraction', 'empty', 'spacing', 'nochannel'],
    9,
  );
  const tr = (f: string): string => path.join(dir, 'imagesTr', f);
  const lb = (f: string): string => path.join(dir, 'labelsTr', f);
  await write(tr('shape_0001.nii.gz'), vol([4, 4, 4]));
  await write(lb('shift.nii.gz'), boxLabel(S, 1, { origin: [0, 0, 2] }));
  await write(
    tr('nan_0000.nii.gz'),
    vol(S, (i) => (i === 5 || i === 7 ? NaN : i)),
  );
  await write(lb('values.nii.gz'), boxLabel(S, 7));
  await write(
    lb('fraction.nii.gz'),
    vol(S, (i) => (i === 3 ? 0.5 : 0), { datatype: 'float32' }),
  );
  await write(lb('empty.nii.gz'), boxLabel(S, 0));
  for (const f of ['spacing_0000.nii.gz', 'spacing_0001.nii.gz'])
    await write(
      tr(f),
      vol(S, (i) => i, { spacing: [1, 1, 12] }),
    );
  await write(lb('spacing.nii.gz'), boxLabel(S, 1, { spacing: [1, 1, 12] }));
  fs.rmSync(tr('nochannel_0001.nii.gz'));

  const r = await checkDataset(dir);
  assert.equal(r.ok, false);
  const of = (id: string): { errors: string[]; warnings: string[] } => {
    const c = r.cases.find((x) => x.id === id);
    assert.ok(c, `case ${id} in the report`);
    return c;
  };
  for (const id of ok) assert.deepEqual(of(id), { ...of(id), errors: [], warnings: [] });
  assert.match(
    of('shape').errors.join(),
    /channel 1 \(T2\): grid 4×4×4 differs from channel 0 \(T1\) \(4×4×3\)/,
  );
  assert.match(
    of('shift').errors.join(),
    /label: geometry differs from channel 0 \(T1\): origins differ by 2 mm/,
  );
  assert.match(of('nan').errors.join(), /channel 0 \(T1\): 2 voxels are NaN or infinite/);
  assert.match(
    of('values').errors.join(),
    /label: values 7 \(12 voxels\) are not declared \(declared: 0, 1\)/,
  );
  assert.match(of('fraction').errors.join(), /label: 1 voxels are not integers \(e\.g\. 0\.5\)/);
  assert.deepEqual(of('empty').errors, []);
  assert.match(of('empty').warnings.join(), /label is empty/);
  assert.deepEqual(of('spacing').errors, []);
  assert.match(of('spacing').warnings.join(), /very anisotropic spacing 1×1×12 mm/);
  assert.match(of('spacing').warnings.join(), /far from the dataset median 1×1×1 mm/);
  assert.match(of('nochannel').errors.join(), /missing channel 1 \(T2\): imagesTr\/nochannel_0001\.nii\.gz/);
  // Dataset-wide: 11 cases found, 9 declared.
  assert.match(r.errors.join(), /numTraining is 9 but 11 training cases were found/);
  assert.equal(r.errorCount, 1 + 6);
  // The report names every failing case with its problems.
  for (const id of ['shape', 'shift', 'nan', 'values', 'fraction', 'nochannel'])
    assert.match(r.report, new RegExp(`case ${id} \\(training\\): \\d+ error`));
  assert.match(r.report, /^FAILED: 7 errors, 3 warnings \(6 cases with errors\)$/m);

  await assert.rejects(assertDatasetValid(dir), (e: unknown) => {
    assert.ok(e instanceof DatasetInvalidError);
    assert.equal(e.result.errorCount, 7);
    assert.match(e.message, /case nan \(training\)/);
    return true;
  });
});

test('MSD 4D images: the volume count must match the declared channels', async (t) => {
  const dir = tmpDir(t);
  writeJson(path.join(dir, 'dataset.json'), {
    name: 'T',
    modality: { '0': 'T2', '1': 'ADC' },
    labels: { '0': 'background', '1': 'PZ' },
    numTraining: 2,
    training: [
      { image: './imagesTr/good.nii.gz', label: './labelsTr/good.nii.gz' },
      { image: './imagesTr/bad.nii.gz', label: './labelsTr/bad.nii.gz' },
    ],
    test: [],
  });
  await write(
    path.join(dir, 'imagesTr/good.nii.gz'),
    vol([...S, 2], (i) => i),
  );
  await write(
    path.join(dir, 'imagesTr/bad.nii.gz'),
    vol([...S, 3], (i) => i),
  );
  for (const id of ['good', 'bad']) await write(path.join(dir, `labelsTr/${id}.nii.gz`), boxLabel(S));
  const r = await checkDataset(dir);
  assert.deepEqual(r.cases.find((c) => c.id === 'good')!.errors, []);
  const bad = r.cases.find((c) => c.id === 'bad')!.errors;
  assert.equal(bad.length, 1, bad.join('\n'));
  assert.match(bad[0]!, /4D image holds 3 volumes, dataset\.json declares 2 channels/);
});

test('an unreadable dataset folder is a result, not an exception', async (t) => {
  const r = await checkDataset(path.join(tmpDir(t), 'nothing-here'));
  assert.equal(r.ok, false);
  assert.match(r.errors[0]!, /no dataset\.json/);
  assert.match(r.report, /FAILED: 1 error/);
});
