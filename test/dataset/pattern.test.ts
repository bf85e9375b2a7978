// Path patterns: the syntax, matching against a listing, generated BIDS-like / DeepMedic-like trees
// and the shared real ones (skipped without them).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { checkDataset } from '../../src/dataset/check.js';
import { datasetFromPattern } from '../../src/dataset/from-pattern.js';
import { channelPatterns, compilePattern, matchPattern } from '../../src/dataset/pattern.js';
import { realData, tmpDir, vol, write } from './fixtures.js';

test('{case} captures one segment and must repeat identically', () => {
  const re = compilePattern('sub-{case}/ct/sub-{case}_ct.nii.gz');
  assert.equal(re.exec('sub-spleen2/ct/sub-spleen2_ct.nii.gz')?.groups?.case, 'spleen2');
  assert.equal(re.exec('sub-a/ct/sub-b_ct.nii.gz'), null);
  assert.equal(re.exec('sub-a/b/ct/sub-a_ct.nii.gz'), null);
  // '.' is literal, not a regex wildcard.
  assert.equal(re.exec('sub-a/ct/sub-a_ctxnii.gz'), null);
});

test('wildcards: * and ? stay in a segment, ** spans folders', () => {
  assert.ok(compilePattern('{case}/*seg*.nii.gz').test('p1/x_seg-manual.nii.gz'));
  assert.ok(!compilePattern('{case}/*.nii.gz').test('p1/deeper/x.nii.gz'));
  assert.ok(compilePattern('**/{case}.nii.gz').test('a/b/c/p1.nii.gz'));
  assert.ok(compilePattern('**/{case}.nii.gz').test('p1.nii.gz'));
  assert.ok(compilePattern('img?/{case}.nii').test('img1/p1.nii'));
  assert.ok(!compilePattern('img?/{case}.nii').test('img12/p1.nii'));
});

test('pattern mistakes are refused with a reason', () => {
  assert.throws(() => compilePattern('images/*.nii.gz'), /no \{case\}/);
  assert.throws(() => compilePattern('{subject}/{case}.nii.gz'), /unknown placeholder \{subject\}/);
  assert.throws(() => compilePattern('/abs/{case}.nii'), /relative/);
  assert.throws(() => channelPatterns({ images: ['{case}_{channel}.nii'] }), /channel values/);
  assert.deepEqual(channelPatterns({ images: ['{case}_{channel}.nii'], channels: ['t1', 't2'] }), [
    '{case}_t1.nii',
    '{case}_t2.nii',
  ]);
});

test('matching reports incomplete and ambiguous cases, keeps complete ones', () => {
  const files = [
    'a/t1.nii.gz',
    'a/t2.nii.gz',
    'a/seg.nii.gz',
    'b/t1.nii.gz', // no t2
    'b/seg.nii.gz',
    'c/t1.nii.gz',
    'c/t2.nii.gz', // no label
    'd/t1.nii.gz',
    'd/t2.nii.gz',
    'd/seg.nii.gz',
    'd/seg2.nii.gz', // two labels match seg*
  ];
  const ds = matchPattern(
    {
      root: '/data',
      images: ['{case}/{channel}.nii.gz'],
      channels: ['t1', 't2'],
      label: '{case}/seg*.nii.gz',
      labels: { background: 0, x: 1 },
    },
    () => files,
  );
  assert.deepEqual(
    ds.training.map((c) => c.id),
    ['a'],
  );
  assert.deepEqual(ds.training[0]!.channels, [
    { path: path.resolve('/data/a/t1.nii.gz') },
    { path: path.resolve('/data/a/t2.nii.gz') },
  ]);
  const byCase = (id: string): string =>
    ds.issues
      .filter((i) => i.caseId === id)
      .map((i) => i.message)
      .join('; ');
  assert.match(byCase('b'), /no file for channel 1 \(t2\)/);
  assert.match(byCase('c'), /no label file/);
  assert.match(byCase('d'), /several files match the label/);
  assert.deepEqual(ds.channelNames, ['t1', 't2']);
});

test('without a label pattern every case is a test case', () => {
  const ds = matchPattern({ root: '/d', images: ['{case}.nii'] }, () => ['x.nii', 'y.nii', 'notes.txt']);
  assert.deepEqual(
    ds.test.map((c) => c.id),
    ['x', 'y'],
  );
  assert.equal(ds.training.length, 0);
});

test('real data: the BIDS-like spleen crop', async (t) => {
  const root = realData(t, 'msd-spleen-crop');
  if (!root) return;
  const ds = await datasetFromPattern({
    root,
    images: ['sub-{case}/ct/sub-{case}_ct.nii.gz'],
    label: 'derivatives/labels/sub-{case}/ct/sub-{case}_ct_seg-manual.nii.gz',
    channelNames: ['CT'],
    labels: { background: 0, spleen: 1 },
  });
  assert.deepEqual(
    ds.training.map((c) => c.id),
    ['spleen2'],
  );
  const r = await checkDataset(ds);
  assert.ok(r.ok, r.report);
  assert.deepEqual(r.cases[0]!.shape, [164, 166, 26]);
  // Voxel counts as nibabel gives them (independent reference).
  assert.deepEqual(r.cases[0]!.labelCounts, { '0': 611152, '1': 96672 });
});

test('real data: DeepMedic BRATS cases with two channels, labels inferred', async (t) => {
  const root = realData(t, 'brats2013-deepmedic');
  if (!root) return;
  const ds = await datasetFromPattern({
    root,
    images: ['brats_2013_{case}/{channel}_subtrMeanDivStd.nii.gz'],
    channels: ['Flair', 'T1c'],
    label: 'brats_2013_{case}/OTMultiClass.nii.gz',
  });
  assert.deepEqual(
    ds.training.map((c) => c.id),
    ['pat0003_1', 'pat0004_1', 'pat0005_1', 'pat0006_1'],
  );
  // The float32 label files hold 0..4 (necrosis, oedema, non-enhancing, enhancing).
  assert.deepEqual(ds.labelValues, [0, 1, 2, 3, 4]);
  assert.ok(ds.issues.some((i) => i.severity === 'warning' && /no label names given/.test(i.message)));
  const r = await checkDataset(ds);
  assert.ok(r.ok, r.report);
  // Class voxel counts of pat0004 as nibabel gives them (independent reference).
  assert.deepEqual(r.cases.find((c) => c.id === 'pat0004_1')!.labelCounts, {
    '0': 8807326,
    '1': 12956,
    '2': 45203,
    '3': 44699,
    '4': 17816,
  });
  // With a narrower declaration the check names the undeclared value (one case is enough to show it).
  const narrowDs = await datasetFromPattern({
    root,
    images: ['brats_2013_{case}/{channel}_subtrMeanDivStd.nii.gz'],
    channels: ['Flair', 'T1c'],
    label: 'brats_2013_{case}/OTMultiClass.nii.gz',
    labels: { background: 0, necrosis: 1, oedema: 2, 'non-enhancing': 3 },
  });
  const narrow = await checkDataset({ ...narrowDs, training: narrowDs.training.slice(0, 1) });
  assert.equal(narrow.ok, false);
  assert.ok(
    narrow.cases.some((c) => c.errors.some((e) => /values 4 \(\d+ voxels\) are not declared/.test(e))),
    narrow.report,
  );
});

test('generated BIDS-like and DeepMedic-like trees (the shapes of the real-data ones) read everywhere', async (t) => {
  const root = tmpDir(t);
  // BIDS-like: sub-<case>/ct/…_ct.nii.gz, labels under derivatives/; one case lacks its label
  const shape = [6, 5, 4];
  const counts = new Map<string, Record<string, number>>();
  for (const [k, id] of ['spleen2', 'spleen7', 'spleen9'].entries()) {
    await write(
      path.join(root, 'bids', `sub-${id}/ct/sub-${id}_ct.nii.gz`),
      vol(shape, (i) => i - 40, { datatype: 'int16' }),
    );
    if (id === 'spleen9') continue;
    const lab = vol(shape, (i) => (i % (k + 3) === 0 ? 1 : 0), { datatype: 'uint8' });
    const ones = (lab.data as Uint8Array).filter((v) => v === 1).length;
    counts.set(id, { '0': 120 - ones, '1': ones });
    await write(
      path.join(root, 'bids', `derivatives/labels/sub-${id}/ct/sub-${id}_ct_seg-manual.nii.gz`),
      lab,
    );
  }
  const bids = await datasetFromPattern({
    root: path.join(root, 'bids'),
    images: ['sub-{case}/ct/sub-{case}_ct.nii.gz'],
    label: 'derivatives/labels/sub-{case}/ct/sub-{case}_ct_seg-manual.nii.gz',
    channelNames: ['CT'],
    labels: { background: 0, spleen: 1 },
  });
  assert.deepEqual(
    bids.training.map((c) => c.id),
    ['spleen2', 'spleen7'],
  );
  assert.ok(
    bids.issues.some((i) => i.caseId === 'spleen9' && /no label file/.test(i.message)),
    JSON.stringify(bids.issues),
  );
  const r = await checkDataset(bids);
  // the label-less case is the check's only error; the others are counted as written
  assert.match(r.report, /case spleen9 \(training\): 1 error/);
  assert.match(r.report, /FAILED: 1 error, 0 warnings/);
  assert.equal(r.cases.filter((c) => counts.has(c.id)).length, 2);
  for (const c of r.cases.filter((c) => counts.has(c.id)))
    assert.deepEqual(c.labelCounts, counts.get(c.id), c.id);

  // DeepMedic-like: two channels per case folder, float32 labels 0..4 without names (inferred)
  for (const id of ['pat0003_1', 'pat0004_1']) {
    for (const ch of ['Flair', 'T1c'])
      await write(
        path.join(root, 'dm', `brats_2013_${id}/${ch}_subtrMeanDivStd.nii.gz`),
        vol(shape, (i) => Math.sin(i)),
      );
    await write(
      path.join(root, 'dm', `brats_2013_${id}/OTMultiClass.nii.gz`),
      vol(shape, (i) => i % 5),
    );
  }
  const dm = await datasetFromPattern({
    root: path.join(root, 'dm'),
    images: ['brats_2013_{case}/{channel}_subtrMeanDivStd.nii.gz'],
    channels: ['Flair', 'T1c'],
    label: 'brats_2013_{case}/OTMultiClass.nii.gz',
  });
  assert.deepEqual(
    dm.training.map((c) => c.id),
    ['pat0003_1', 'pat0004_1'],
  );
  assert.deepEqual(dm.labelValues, [0, 1, 2, 3, 4]);
  assert.ok(dm.issues.some((i) => i.severity === 'warning' && /no label names given/.test(i.message)));
  const r2 = await checkDataset(dm);
  assert.ok(r2.ok, r2.report);
  assert.deepEqual(r2.cases[0]!.labelCounts, { '0': 24, '1': 24, '2': 24, '3': 24, '4': 24 });
});
