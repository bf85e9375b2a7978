// The header cases of the shared real data against nibabel: BraTS qform 0/sform 2 images and qform
// 2/sform 1 float32 labels, the int32 brain mask with scl_slope 2.3e-10 / scl_inter 0.5, flipped
// axes in TotalSegmentator MR and the DICOM-derived mask (with a header extension), oblique
// spinal-cord affines (also through their qform alone), float64 vertebral levels, a uint8 256³ T1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { parseNifti, readNifti } from '../../src/io/nifti.js';
import { axisCodes, reorient } from '../../src/io/orientation.js';
import { volumeStats } from '../../src/io/values.js';
import { affineDiff, haveReference, realDataDir, realFile, reference, sha, tempDir } from './helpers.js';

const CASES = [
  'brats2013-deepmedic/brats_2013_pat0003_1/Flair_subtrMeanDivStd.nii.gz',
  'brats2013-deepmedic/brats_2013_pat0003_1/OTMultiClass.nii.gz',
  'brats2013-deepmedic/brats_2013_pat0003_1/brainmask.nii.gz',
  'totalsegmentator-reference/example_mr_sm.nii.gz',
  'totalsegmentator-reference/example_seg_mr.nii.gz',
  'totalsegmentator-reference/example_seg_dicom.nii.gz',
  'totalsegmentator-reference/example_ct_sm.nii.gz',
  'spinalcord-sct/t2s/t2s.nii.gz',
  'spinalcord-sct/mt/mt1.nii.gz',
  'spinalcord-sct/t2/t2_seg-manual_labeled.nii.gz',
  'msd-spleen-crop/sub-spleen2/ct/sub-spleen2_ct.nii.gz',
  'brainchop/t1_crop.nii.gz',
];

interface Info {
  file: string;
  dtype: string;
  shape: number[];
  affine: number[][];
  qform: number[][];
  qcode: number;
  scode: number;
  slope: number;
  inter: number;
  sha: string;
  min: number;
  max: number;
  mean: number;
  axcodes: string;
}

const close = (a: number, b: number, rel = 1e-9): boolean =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

test('real files: shape, type, affine, scaling, values and axis codes match nibabel', async (t) => {
  if (!realFile(t, CASES[0]!) || !haveReference(t)) return;
  const files = CASES.map((c) => path.join(realDataDir, c));
  const infos = await reference<Info>('info', ...files);
  for (const info of infos) {
    const vol = await readNifti(info.file);
    const what = path.basename(info.file);
    assert.deepEqual(vol.shape, info.shape, what);
    assert.equal(vol.datatype, info.dtype, what);
    assert.ok(affineDiff(vol.affine, info.affine) < 1e-6, `${what} affine`);
    assert.equal(vol.header?.qformCode, info.qcode, what);
    assert.equal(vol.header?.sformCode, info.scode, what);
    assert.equal(vol.sclSlope, info.slope, what);
    assert.equal(vol.sclInter, info.inter, what);
    assert.equal(sha(vol.data), info.sha, `${what} stored values`);
    const s = volumeStats(vol);
    assert.ok(close(s.min, info.min) && close(s.max, info.max) && close(s.mean, info.mean), `${what} stats`);
    assert.equal(axisCodes(vol.affine), info.axcodes, what);
  }
  // The cases the data README names, stated outright.
  const byName = new Map(
    infos.map((i) => [path.basename(path.dirname(i.file)) + '/' + path.basename(i.file), i]),
  );
  const mask = byName.get('brats_2013_pat0003_1/brainmask.nii.gz')!;
  assert.equal(mask.dtype, 'int32');
  assert.ok(Math.abs(mask.slope - 2.3e-10) < 1e-11 && mask.inter === 0.5);
  assert.equal(byName.get('brats_2013_pat0003_1/OTMultiClass.nii.gz')!.qcode, 2);
  assert.equal(byName.get('totalsegmentator-reference/example_mr_sm.nii.gz')!.axcodes, 'LPS');
});

test('oblique spinal-cord files read through their qform alone match nibabel get_qform', async (t) => {
  const names = [
    'spinalcord-sct/t2s/t2s.nii.gz',
    'spinalcord-sct/mt/mt1.nii.gz',
    'spinalcord-sct/t2s/t2s_uncropped.nii.gz',
  ];
  if (!realFile(t, names[0]!) || !haveReference(t)) return;
  const dir = tempDir(t);
  const copies: string[] = [];
  for (const n of names) {
    // sform_code → 0 so that the standard's precedence falls to the qform (method 2).
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(realDataDir, n)));
    raw.writeInt16LE(0, 254);
    const out = path.join(dir, path.basename(n, '.gz'));
    fs.writeFileSync(out, raw);
    copies.push(out);
  }
  for (const info of await reference<Info>('info', ...copies)) {
    const vol = await parseNifti(fs.readFileSync(info.file), info.file);
    assert.equal(vol.header?.sformCode, 0);
    assert.ok(info.qcode > 0);
    assert.ok(affineDiff(vol.affine, info.qform) < 1e-6, path.basename(info.file));
    assert.ok(affineDiff(vol.affine, info.affine) < 1e-6);
  }
});

test('reorienting to RAS matches nibabel as_closest_canonical (flipped and permuted axes)', async (t) => {
  const names = [
    'totalsegmentator-reference/example_mr_sm.nii.gz',
    'spinalcord-sct/t2/t2.nii.gz',
    'spinalcord-sct/t2s/t2s.nii.gz',
  ];
  if (!realFile(t, names[0]!) || !haveReference(t)) return;
  const dir = tempDir(t);
  for (const n of names) {
    const file = path.join(realDataDir, n);
    const [ref] = await reference<{ affine: number[][]; shape: number[]; sha: string }>(
      'canonical',
      file,
      path.join(dir, 'x'),
    );
    const ras = reorient(await readNifti(file), 'RAS');
    assert.deepEqual(ras.shape, ref!.shape, n);
    assert.ok(affineDiff(ras.affine, ref!.affine) < 1e-6, n);
    assert.equal(sha(ras.data), ref!.sha, n);
    assert.equal(axisCodes(ras.affine), 'RAS');
  }
});
