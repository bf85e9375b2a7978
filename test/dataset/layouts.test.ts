// Reading the two dataset.json layouts from a (fake) folder listing: what becomes a case and what is
// reported about the rest.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMsdDatasetJson } from '../../src/dataset/msd.js';
import { parseNnunetDatasetJson, type FolderView } from '../../src/dataset/nnunet.js';
import { detectLayout, readDataset } from '../../src/dataset/read.js';
import { realData, tmpDir, writeJson } from './fixtures.js';

const root = path.resolve('/data/Dataset001_X');

function view(files: Record<string, string[]>): FolderView {
  const all = new Set(
    Object.entries(files).flatMap(([dir, names]) => names.map((n) => path.join(root, dir, n))),
  );
  return {
    list: (dir) => files[path.relative(root, dir)] ?? [],
    exists: (p) => all.has(p) || Object.keys(files).some((d) => path.join(root, d) === p),
  };
}

const v2 = {
  channel_names: { '0': 'T2', '1': 'ADC' },
  labels: { background: 0, PZ: 1, TZ: 2 },
  numTraining: 4,
  file_ending: '.nii.gz',
};

test('nnU-Net v2: cases from imagesTr/labelsTr; every missing or stray file reported', () => {
  const ds = parseNnunetDatasetJson(
    v2,
    root,
    view({
      imagesTr: [
        'p1_0000.nii.gz',
        'p1_0001.nii.gz',
        'p2_0000.nii.gz', // channel 1 missing
        'p3_0000.nii.gz',
        'p3_0001.nii.gz',
        'p3_0002.nii.gz', // a third channel where two are declared
        '._p1_0000.nii.gz', // macOS resource fork: ignored
        'readme.txt',
      ],
      labelsTr: ['p1.nii.gz', 'p2.nii.gz', 'p4.nii.gz'], // p3 unlabelled, p4 has no images
      imagesTs: ['t1_0000.nii.gz', 't1_0001.nii.gz'],
    }),
  );
  assert.deepEqual(
    ds.training.map((c) => c.id),
    ['p1'],
  );
  assert.deepEqual(ds.training[0]!.channels, [
    { path: path.join(root, 'imagesTr/p1_0000.nii.gz') },
    { path: path.join(root, 'imagesTr/p1_0001.nii.gz') },
  ]);
  assert.equal(ds.training[0]!.label, path.join(root, 'labelsTr/p1.nii.gz'));
  assert.deepEqual(
    ds.test.map((c) => c.id),
    ['t1'],
  );
  const msg = (id?: string): string =>
    ds.issues
      .filter((i) => i.caseId === id)
      .map((i) => `${i.severity}: ${i.message}`)
      .join('\n');
  assert.match(msg('p2'), /error: missing channel 1 \(ADC\): imagesTr\/p2_0001\.nii\.gz/);
  assert.match(msg('p3'), /error: .*channel 2 but only 2 declared/);
  assert.match(msg('p3'), /error: no label file labelsTr\/p3\.nii\.gz/);
  assert.match(msg('p4'), /error: missing channel 0 \(T2\)/);
  assert.match(msg(undefined), /warning: imagesTr\/readme\.txt: ignored/);
  assert.doesNotMatch(msg(undefined), /\._p1/);
  assert.equal(ds.layout, 'nnunet-v2');
  assert.equal(ds.fileEnding, '.nii.gz');
});

test('nnU-Net v2: numTraining must match; regions need regions_class_order', () => {
  const ds = parseNnunetDatasetJson(
    { ...v2, numTraining: 3, labels: { background: 0, wt: [1, 2], tc: 2 } },
    root,
    view({ imagesTr: ['p1_0000.nii.gz', 'p1_0001.nii.gz'], labelsTr: ['p1.nii.gz'] }),
  );
  const errors = ds.issues.filter((i) => i.severity === 'error').map((i) => i.message);
  assert.ok(
    errors.some((m) => /numTraining is 3 but 1 training cases/.test(m)),
    errors.join('\n'),
  );
  assert.ok(
    errors.some((m) => /regions_class_order/.test(m)),
    errors.join('\n'),
  );
  const ok = parseNnunetDatasetJson(
    { ...v2, numTraining: 1, labels: { background: 0, wt: [1, 2], tc: 2 }, regions_class_order: [1, 2] },
    root,
    view({ imagesTr: ['p1_0000.nii.gz', 'p1_0001.nii.gz'], labelsTr: ['p1.nii.gz'] }),
  );
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(ok.regionClassOrder, [1, 2]);
  assert.deepEqual(ok.labelValues, [0, 1, 2]);
});

test('MSD: explicit training list, 4D channels, paths as published', () => {
  const exists = (p: string): boolean =>
    [
      'imagesTr/prostate_00.nii.gz', // dataset.json says .nii, the copy on disk is recompressed
      'labelsTr/prostate_00.nii.gz',
      'imagesTr/prostate_01.nii',
      'imagesTs/prostate_02.nii',
    ].some((f) => path.join(root, f) === p);
  const ds = parseMsdDatasetJson(
    {
      name: 'PROSTATE',
      modality: { '0': 'T2', '1': 'ADC' },
      labels: { '0': 'background', '1': 'PZ', '2': 'TZ' },
      numTraining: 2,
      training: [
        { image: '/imagesTr/prostate_00.nii', label: '/labelsTr/prostate_00.nii' },
        { image: './imagesTr/prostate_01.nii', label: './labelsTr/prostate_01.nii' },
      ],
      test: ['./imagesTs/prostate_02.nii'],
    },
    root,
    exists,
  );
  assert.deepEqual(ds.channelNames, ['T2', 'ADC']);
  assert.equal(ds.training.length, 1);
  const c = ds.training[0]!;
  assert.equal(c.id, 'prostate_00');
  assert.deepEqual(c.channels, [
    { path: path.join(root, 'imagesTr/prostate_00.nii.gz'), index: 0 },
    { path: path.join(root, 'imagesTr/prostate_00.nii.gz'), index: 1 },
  ]);
  assert.ok(
    ds.issues.some(
      (i) =>
        i.caseId === 'prostate_00' &&
        i.severity === 'warning' &&
        /using prostate_00\.nii\.gz/.test(i.message),
    ),
  );
  assert.ok(
    ds.issues.some(
      (i) =>
        i.caseId === 'prostate_01' &&
        i.severity === 'error' &&
        /missing file labelsTr\/prostate_01\.nii/.test(i.message),
    ),
  );
  assert.deepEqual(
    ds.test.map((t) => t.id),
    ['prostate_02'],
  );
});

test('layout detection and reading a renamed dataset.json', async (t) => {
  assert.equal(detectLayout({ channel_names: {} }), 'nnunet-v2');
  assert.equal(detectLayout({ modality: {} }), 'msd');
  assert.equal(detectLayout({ foo: 1 }), undefined);
  const dir = tmpDir(t);
  await assert.rejects(readDataset(dir), /no dataset\.json/);
  fs.writeFileSync(path.join(dir, 'dataset.json'), '{ not json');
  await assert.rejects(readDataset(dir), /not valid JSON/);
  writeJson(path.join(dir, 'task.json'), {
    modality: { '0': 'CT' },
    labels: { '0': 'background' },
    training: [],
  });
  const ds = await readDataset(path.join(dir, 'task.json'));
  assert.equal(ds.layout, 'msd');
  assert.equal(ds.root, dir);
});

test('real data: the published MSD prostate dataset.json', async (t) => {
  const dir = realData(t, 'msd-dataset-json');
  if (!dir) return;
  const ds = await readDataset(path.join(dir, 'Task05_Prostate.dataset.json'));
  assert.equal(ds.layout, 'msd');
  assert.deepEqual(ds.channelNames, ['T2', 'ADC']);
  assert.deepEqual(
    ds.labels.map((c) => c.name),
    ['background', 'PZ', 'TZ'],
  );
  // No images ship with it: all 32 listed cases are reported missing, none silently dropped.
  const missing = new Set(ds.issues.filter((i) => i.severity === 'error' && i.caseId).map((i) => i.caseId));
  assert.equal(missing.size, 32);
  assert.equal(ds.numTraining, 32);
});
