// DICOM series generated here with pydicom (no shared data needed): int16 CT with rescale, 12-bit
// uint16 MR and 8-bit images, oblique with unequal pixel spacing, written in every uncompressed
// transfer syntax pydicom writes (explicit/implicit VR little endian, explicit big endian, deflated)
// and RLE Lossless (pydicom's own encoder), each read as pydicom reads it; then the folders that
// cannot be one volume, built from the same generated series.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { readDicomSeries } from '../../src/io/dicom.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { affineDiff, haveReference, referenceBatch, sha, tempDir } from './helpers.js';

interface Stack {
  shape: number[];
  dtype: string;
  affine: number[][];
  slope: number;
  inter: number;
}

/** pydicom's reading of a folder (written by a 'dicom' command of the batch) with the sha of its values. */
function stackOf(answer: unknown[], bin: string): Stack & { sha: string } {
  return { ...(answer[0] as Stack), sha: sha(new Uint8Array(fs.readFileSync(bin))) };
}

const SYNTAXES: [string, string][] = [
  ['1.2.840.10008.1.2.1', 'explicit VR little endian'],
  ['1.2.840.10008.1.2', 'implicit VR little endian'],
  ['1.2.840.10008.1.2.2', 'explicit VR big endian'],
  ['1.2.840.10008.1.2.1.99', 'deflated explicit VR little endian'],
  ['1.2.840.10008.1.2.5', 'RLE lossless'],
];

for (const kind of ['ct', 'mr', 'u8'] as const) {
  test(`generated ${kind} series in ${SYNTAXES.length} transfer syntaxes read as pydicom reads them`, async (t: TestContext) => {
    if (!haveReference(t)) return;
    const tmp = tempDir(t);
    const src = path.join(tmp, 'src');
    // one Python process: the source, its transcodes (names reversed; every other one tilted more),
    // and pydicom's reading of each
    const dirs = SYNTAXES.map(([syntax]) => path.join(tmp, syntax));
    const answers = await referenceBatch(
      ['synth-series', src, kind, '4'],
      ['dicom', src, `${src}.bin`],
      ...SYNTAXES.flatMap(([syntax], i) => [
        ['transcode', src, dirs[i]!, syntax, i % 2 ? 'oblique' : 'shuffle', '4'],
        ['dicom', dirs[i]!, `${dirs[i]}.bin`],
      ]),
    );
    const original = await readDicomSeries(src);
    const ref0 = stackOf(answers[1]!, `${src}.bin`);
    assert.deepEqual(original.shape, [13, 12, 4]);
    assert.equal(sha(original.data), ref0.sha);
    for (const [i, [, name]] of SYNTAXES.entries()) {
      const what = `${kind} ${name} (${i % 2 ? 'oblique' : 'shuffle'})`;
      const vol = await readDicomSeries(dirs[i]!);
      const ref = stackOf(answers[3 + 2 * i]!, `${dirs[i]}.bin`);
      assert.deepEqual(vol.shape, ref.shape, what);
      assert.equal(vol.datatype, ref.dtype, what);
      assert.equal(sha(vol.data), ref.sha, what);
      assert.ok(
        affineDiff(vol.affine, ref.affine) < 1e-6,
        `${what}: ${JSON.stringify([vol.affine, ref.affine])}`,
      );
      assert.equal(vol.sclSlope, ref.slope, what);
      assert.equal(vol.sclInter, ref.inter, what);
      // the same voxels whatever the syntax
      assert.equal(sha(vol.data), ref0.sha, `${what}: values differ from the uncompressed source`);
    }
    // pixel spacing (0.8 mm between rows, 0.7 mm between columns) and 2.5 mm between slices
    const col = (j: number) => Math.hypot(...[0, 1, 2].map((r) => original.affine[r]![j]!));
    assert.ok(
      Math.abs(col(0) - 0.7) < 1e-9 && Math.abs(col(1) - 0.8) < 1e-9 && Math.abs(col(2) - 2.5) < 1e-9,
    );
  });
}

test('generated DICOM folders that cannot be one volume give ImageFormatError', async (t) => {
  if (!haveReference(t)) return;
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const [rle, fake, gap, two, other] = ['rle', 'jpegls', 'gap', 'two', 'other'].map((d) => path.join(tmp, d));
  await referenceBatch(
    ['synth-series', src, 'ct', '5'],
    // compressed data relabelled as JPEG-LS: CharLS cannot decode RLE
    ['transcode', src, rle!, '1.2.840.10008.1.2.5', 'shuffle', '2'],
    ['transcode', rle!, fake!, '-', 'fakejpegls', '2'],
    ['transcode', src, gap!, '1.2.840.10008.1.2.1', 'shuffle', '5'],
    ['transcode', src, two!, '1.2.840.10008.1.2.1', 'shuffle', '3'],
    ['transcode', src, other!, '1.2.840.10008.1.2.1', 'series2', '2'],
  );
  await assert.rejects(
    readDicomSeries(fake!),
    (e: unknown) =>
      e instanceof ImageFormatError && /\.dcm: cannot decode 1\.2\.840\.10008\.1\.2\.4\.80/.test(e.message),
  );

  fs.writeFileSync(path.join(gap!, 'README.txt'), 'not DICOM: ignored');
  fs.rmSync(path.join(gap!, '003.dcm'));
  await assert.rejects(
    readDicomSeries(gap!),
    (e: unknown) => e instanceof ImageFormatError && /not evenly spaced/.test(e.message),
  );

  const cut = path.join(tmp, 'cut');
  fs.mkdirSync(cut);
  const whole = fs.readFileSync(path.join(src, '000.dcm'));
  fs.writeFileSync(path.join(cut, 'a.dcm'), whole.subarray(0, whole.length - 100));
  await assert.rejects(readDicomSeries(cut), /a\.dcm: (cannot parse DICOM|file too short)/);

  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  fs.writeFileSync(path.join(empty, 'x.txt'), 'nothing');
  await assert.rejects(readDicomSeries(empty), /no DICOM images/);

  // two series in one folder: refused unless one is chosen
  for (const f of fs.readdirSync(other!)) fs.copyFileSync(path.join(other!, f), path.join(two!, `b-${f}`));
  await assert.rejects(
    readDicomSeries(two!),
    /holds 2 series: .*\(3 images\).*\(2 images\)|holds 2 series: .*\(2 images\).*\(3 images\)/,
  );
  const chosen = await readDicomSeries(two!, { seriesUid: '1.2.826.0.1.3680043.8.498.4242' });
  assert.deepEqual(chosen.shape, [13, 12, 2]);
});
