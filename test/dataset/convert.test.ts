// MSD → nnU-Net v2 conversion and writing pattern datasets: 4D images split into per-channel files with
// the same voxels and geometry, dataset.json in v2 form, and an existing folder left alone unless told.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkDataset } from '../../src/dataset/check.js';
import { convertMsdToNnunet, writeNnunetDataset } from '../../src/dataset/export.js';
import { matchPattern } from '../../src/dataset/pattern.js';
import { readDataset } from '../../src/dataset/read.js';
import { readImage } from '../../src/io/image.js';
import { boxLabel, tmpDir, vol, write, writeJson } from './fixtures.js';

const S = [5, 4, 3];
const N = 5 * 4 * 3;

async function msdTask(dir: string): Promise<void> {
  writeJson(path.join(dir, 'dataset.json'), {
    name: 'PROSTATE',
    description: 'two-channel test task',
    tensorImageSize: '4D',
    modality: { '0': 'T2', '1': 'ADC' },
    labels: { '0': 'background', '1': 'PZ', '2': 'TZ' },
    numTraining: 2,
    numTest: 1,
    training: [
      { image: './imagesTr/pr_00.nii.gz', label: './labelsTr/pr_00.nii.gz' },
      { image: './imagesTr/pr_01.nii.gz', label: './labelsTr/pr_01.nii.gz' },
    ],
    test: ['./imagesTs/pr_02.nii.gz'],
  });
  // Channel c of case k holds 1000·c + 100·k + voxel index, so a swapped or shifted split shows.
  for (const k of [0, 1]) {
    const img = vol([...S, 2], (i) => 1000 * Math.floor(i / N) + 100 * k + (i % N), {
      spacing: [0.6, 0.6, 3.6],
      origin: [-10, 5, 2],
    });
    await write(path.join(dir, `imagesTr/pr_0${k}.nii.gz`), img);
    await write(
      path.join(dir, `labelsTr/pr_0${k}.nii.gz`),
      boxLabel(S, 2, { spacing: [0.6, 0.6, 3.6], origin: [-10, 5, 2] }),
    );
  }
  await write(
    path.join(dir, 'imagesTs/pr_02.nii.gz'),
    vol([...S, 2], (i) => i, { spacing: [0.6, 0.6, 3.6] }),
  );
}

test('MSD task → nnU-Net v2: channel files, labels, dataset.json', async (t) => {
  const msd = tmpDir(t);
  const out = path.join(tmpDir(t), 'Dataset005_Prostate');
  await msdTask(msd);
  const r = await convertMsdToNnunet(msd, out);
  assert.deepEqual([r.training, r.test, r.skipped.length], [2, 1, 0]);

  const json = JSON.parse(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8'));
  assert.deepEqual(json.channel_names, { '0': 'T2', '1': 'ADC' });
  assert.deepEqual(json.labels, { background: 0, PZ: 1, TZ: 2 });
  assert.equal(json.numTraining, 2);
  assert.equal(json.file_ending, '.nii.gz');
  assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTr')).sort(), [
    'pr_00_0000.nii.gz',
    'pr_00_0001.nii.gz',
    'pr_01_0000.nii.gz',
    'pr_01_0001.nii.gz',
  ]);
  assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTs')).sort(), [
    'pr_02_0000.nii.gz',
    'pr_02_0001.nii.gz',
  ]);

  const adc = await readImage(path.join(out, 'imagesTr/pr_01_0001.nii.gz'));
  assert.deepEqual(adc.shape, S);
  assert.equal(adc.data[7], 1000 + 100 + 7);
  assert.equal(adc.data[N - 1], 1000 + 100 + N - 1);
  // NIfTI stores the affine as float32.
  assert.deepEqual(
    adc.affine[0]!.map((v) => Math.fround(v)),
    [Math.fround(0.6), 0, 0, -10],
  );
  const label = await readImage(path.join(out, 'labelsTr/pr_00.nii.gz'));
  assert.deepEqual(Array.from(label.data as Uint8Array), Array.from(boxLabel(S, 2).data as Uint8Array));

  const converted = await readDataset(out);
  assert.equal(converted.layout, 'nnunet-v2');
  const check = await checkDataset(out);
  assert.ok(check.ok, check.report);
});

test('conversion refuses a non-empty output folder unless told, and never the source itself', async (t) => {
  const msd = tmpDir(t);
  await msdTask(msd);
  const out = tmpDir(t);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me');
  await assert.rejects(convertMsdToNnunet(msd, out), /exists and is not empty/);
  assert.equal(fs.existsSync(path.join(out, 'dataset.json')), false);
  // With overwrite, a stale case from an earlier run disappears, unrelated files stay.
  fs.mkdirSync(path.join(out, 'imagesTr'));
  fs.writeFileSync(path.join(out, 'imagesTr/stale_0000.nii.gz'), '');
  await convertMsdToNnunet(msd, out, { overwrite: true });
  assert.equal(fs.existsSync(path.join(out, 'imagesTr/stale_0000.nii.gz')), false);
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'keep me');
  await assert.rejects(convertMsdToNnunet(msd, msd, { overwrite: true }), /the dataset itself/);
  await assert.rejects(convertMsdToNnunet(out, path.join(out, 'again')), /not an MSD task/);
});

test('a pattern dataset written as nnU-Net v2 keeps its files byte for byte', async (t) => {
  const root = tmpDir(t);
  for (const id of ['s1', 's2']) {
    await write(
      path.join(root, `sub-${id}/anat/sub-${id}_T1w.nii.gz`),
      vol(S, (i) => i),
    );
    await write(
      path.join(root, `sub-${id}/anat/sub-${id}_FLAIR.nii.gz`),
      vol(S, (i) => -i),
    );
    await write(path.join(root, `derivatives/sub-${id}_mask.nii.gz`), boxLabel(S));
  }
  const ds = matchPattern({
    root,
    images: ['sub-{case}/anat/sub-{case}_{channel}.nii.gz'],
    channels: ['T1w', 'FLAIR'],
    label: 'derivatives/sub-{case}_mask.nii.gz',
    labels: { background: 0, lesion: 1 },
  });
  const out = path.join(tmpDir(t), 'ds');
  await writeNnunetDataset(ds, out);
  const same = (a: string, b: string): boolean => fs.readFileSync(a).equals(fs.readFileSync(b));
  assert.ok(
    same(path.join(root, 'sub-s2/anat/sub-s2_FLAIR.nii.gz'), path.join(out, 'imagesTr/s2_0001.nii.gz')),
  );
  assert.ok(same(path.join(root, 'derivatives/sub-s1_mask.nii.gz'), path.join(out, 'labelsTr/s1.nii.gz')));
  const r = await checkDataset(out);
  assert.ok(r.ok, r.report);
  assert.deepEqual(r.dataset!.channelNames, ['T1w', 'FLAIR']);
});
