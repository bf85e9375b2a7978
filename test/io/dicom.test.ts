// DICOM series: the shared JPEG 2000 CT series against pydicom (values) and its NIfTI twin
// (geometry), and pydicom transcodes of it (explicit/implicit little endian, big endian, RLE,
// oblique, names out of order) against pydicom's own reading of the transcoded files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readDicomSeries } from '../../src/io/dicom.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { readImage } from '../../src/io/image.js';
import { readNifti } from '../../src/io/nifti.js';
import { axisCodes, reorient } from '../../src/io/orientation.js';
import { affineDiff, haveReference, realDataDir, realFile, reference, sha, tempDir } from './helpers.js';

const SERIES = 'totalsegmentator-reference/example_ct_dicom';

interface Stack {
  shape: number[];
  dtype: string;
  affine: number[][];
  slope: number;
  inter: number;
}

/** pydicom's reading of a folder: stored values (sha of the raw stack), geometry and rescale. */
async function pydicomStack(dir: string, tmp: string): Promise<Stack & { sha: string }> {
  const bin = path.join(tmp, `${path.basename(dir)}.bin`);
  const [ref] = await reference<Stack>('dicom', dir, bin);
  return { ...ref!, sha: sha(new Uint8Array(fs.readFileSync(bin))) };
}

test('the JPEG 2000 CT series: values as pydicom, geometry as its NIfTI twin within 1e-3 mm', async (t) => {
  const dir = realFile(t, SERIES);
  if (!dir || !haveReference(t)) return;
  const [vol, ref] = await Promise.all([readImage(dir), pydicomStack(dir, tempDir(t))]);
  assert.deepEqual(vol.shape, ref.shape);
  assert.equal(vol.datatype, ref.dtype);
  assert.equal(sha(vol.data), ref.sha);
  assert.equal(vol.sclSlope, ref.slope);
  assert.equal(vol.sclInter, ref.inter);
  assert.ok(affineDiff(vol.affine, ref.affine) < 1e-6);
  // The twin (TotalSegmentator's mask of this series) has its y axis flipped: reorient to match.
  const twin = await readNifti(path.join(realDataDir, 'totalsegmentator-reference/example_seg_dicom.nii.gz'));
  const same = reorient(vol, axisCodes(twin.affine));
  assert.deepEqual(same.shape, twin.shape);
  assert.ok(affineDiff(same.affine, twin.affine) < 1e-3, JSON.stringify([same.affine, twin.affine]));
});

test('uncompressed and RLE transcodes, oblique and out of name order, read as pydicom reads them', async (t) => {
  const src = realFile(t, SERIES);
  if (!src || !haveReference(t)) return;
  const tmp = tempDir(t);
  const variants: [string, string][] = [
    ['1.2.840.10008.1.2.1', 'shuffle'], // explicit VR little endian
    ['1.2.840.10008.1.2', 'oblique'], // implicit VR little endian, tilted 0.3 rad about x
    ['1.2.840.10008.1.2.2', 'shuffle'], // explicit VR big endian
    ['1.2.840.10008.1.2.5', 'oblique'], // RLE lossless
  ];
  for (const [syntax, mode] of variants) {
    const dir = path.join(tmp, `${syntax}-${mode}`);
    await reference('transcode', src, dir, syntax, mode, '4');
    const [vol, ref] = await Promise.all([readDicomSeries(dir), pydicomStack(dir, tmp)]);
    const what = `${syntax} ${mode}`;
    assert.deepEqual(vol.shape, ref.shape, what);
    assert.equal(vol.datatype, ref.dtype, what);
    assert.equal(sha(vol.data), ref.sha, what);
    assert.ok(affineDiff(vol.affine, ref.affine) < 1e-6, what);
    assert.equal(vol.sclInter, ref.inter);
  }
});

test('DICOM folders that cannot be one volume give ImageFormatError', async (t) => {
  const src = realFile(t, SERIES);
  if (!src || !haveReference(t)) return;
  const tmp = tempDir(t);
  const fake = path.join(tmp, 'jpegls');
  await reference('transcode', src, fake, '-', 'fakejpegls', '2');
  await assert.rejects(
    readDicomSeries(fake),
    // JPEG 2000 data relabelled as JPEG-LS: CharLS refuses it, the error names file and syntax
    /\.dcm: cannot decode 1\.2\.840\.10008\.1\.2\.4\.80 \(JPEG-LS Lossless\) pixel data/,
  );

  const gap = path.join(tmp, 'gap');
  await reference('transcode', src, gap, '1.2.840.10008.1.2.1', 'shuffle', '4');
  fs.writeFileSync(path.join(gap, 'README.txt'), 'not DICOM: ignored');
  fs.rmSync(path.join(gap, '002.dcm'));
  await assert.rejects(
    readDicomSeries(gap),
    (e: unknown) => e instanceof ImageFormatError && /not evenly spaced/.test(e.message),
  );

  const cut = path.join(tmp, 'cut');
  fs.mkdirSync(cut);
  fs.writeFileSync(
    path.join(cut, 'a.dcm'),
    fs.readFileSync(path.join(src, fs.readdirSync(src).sort()[0]!)).subarray(0, 100_000),
  );
  await assert.rejects(readDicomSeries(cut), /a\.dcm: cannot parse DICOM \(.*buffer overrun.*truncated/);

  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  fs.writeFileSync(path.join(empty, 'x.txt'), 'nothing');
  await assert.rejects(readDicomSeries(empty), /no DICOM images/);

  // Two series in one folder: refused unless one is chosen.
  const two = path.join(tmp, 'two');
  await reference('transcode', src, two, '1.2.840.10008.1.2.1', 'shuffle', '3');
  const other = path.join(tmp, 'other');
  await reference('transcode', src, other, '1.2.840.10008.1.2.1', 'series2', '2');
  for (const f of fs.readdirSync(other)) fs.copyFileSync(path.join(other, f), path.join(two, `b-${f}`));
  await assert.rejects(
    readDicomSeries(two),
    /holds 2 series: .*\(3 images\).*\(2 images\)|holds 2 series: .*\(2 images\).*\(3 images\)/,
  );
  const chosen = await readDicomSeries(two, { seriesUid: '1.2.826.0.1.3680043.8.498.4242' });
  assert.deepEqual(chosen.shape, [512, 512, 2]);
});
