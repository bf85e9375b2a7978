// The JPEG transfer syntaxes (baseline, extended, lossless, lossless SV1, JPEG-LS lossless and
// near-lossless) on series generated with pydicom and compressed by DCMTK (dcmcjpeg, dcmcjpls: an
// encoder independent of the codecs we decode with). The expected values are DCMTK's own
// decompression of the same files (dcmdjpeg, dcmdjpls) read by pydicom; lossless syntaxes must also
// give back the generated values exactly, near-lossless within its NEAR bound (2).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { readDicomSeries } from '../../src/io/dicom.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { affineDiff, haveReference, referenceBatch, sha, tempDir } from './helpers.js';

const haveDcmtk = ['dcmcjpeg', 'dcmdjpeg', 'dcmcjpls', 'dcmdjpls'].every(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
);
const skip = haveDcmtk ? false : 'DCMTK (dcmcjpeg, dcmcjpls; Debian package dcmtk) is not installed';

interface Stack {
  shape: number[];
  dtype: string;
  affine: number[][];
}

/** pydicom's reading of a folder (written by a 'dicom' command of the batch) with its values. */
function stackOf(answer: unknown[], bin: string): Stack & { sha: string; bin: string } {
  return { ...(answer[0] as Stack), sha: sha(new Uint8Array(fs.readFileSync(bin))), bin };
}

type Kind = 'ct' | 'mr' | 'u8';
const CASES: {
  syntax: string;
  name: string;
  kind: Kind;
  encode: string[];
  decode: string;
  lossless: boolean;
}[] = [
  {
    syntax: '1.2.840.10008.1.2.4.50',
    name: 'JPEG baseline',
    kind: 'u8',
    encode: ['dcmcjpeg', '+eb'],
    decode: 'dcmdjpeg',
    lossless: false,
  },
  {
    syntax: '1.2.840.10008.1.2.4.51',
    name: 'JPEG extended, 8-bit',
    kind: 'u8',
    encode: ['dcmcjpeg', '+ee'],
    decode: 'dcmdjpeg',
    lossless: false,
  },
  {
    syntax: '1.2.840.10008.1.2.4.57',
    name: 'JPEG lossless (SV 3), int16 CT',
    kind: 'ct',
    encode: ['dcmcjpeg', '+el', '+sv', '3'],
    decode: 'dcmdjpeg',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.57',
    name: 'JPEG lossless (SV 7), 12-bit MR',
    kind: 'mr',
    encode: ['dcmcjpeg', '+el', '+sv', '7'],
    decode: 'dcmdjpeg',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.70',
    name: 'JPEG lossless SV1, int16 CT',
    kind: 'ct',
    encode: ['dcmcjpeg', '+e1'],
    decode: 'dcmdjpeg',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.70',
    name: 'JPEG lossless SV1, 8-bit',
    kind: 'u8',
    encode: ['dcmcjpeg', '+e1'],
    decode: 'dcmdjpeg',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.80',
    name: 'JPEG-LS lossless, int16 CT',
    kind: 'ct',
    encode: ['dcmcjpls', '+el'],
    decode: 'dcmdjpls',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.80',
    name: 'JPEG-LS lossless, 12-bit MR',
    kind: 'mr',
    encode: ['dcmcjpls', '+el'],
    decode: 'dcmdjpls',
    lossless: true,
  },
  {
    syntax: '1.2.840.10008.1.2.4.81',
    name: 'JPEG-LS near-lossless, 12-bit MR',
    kind: 'mr',
    encode: ['dcmcjpls', '+en'],
    decode: 'dcmdjpls',
    lossless: false,
  },
  {
    syntax: '1.2.840.10008.1.2.4.81',
    name: 'JPEG-LS near-lossless, 8-bit',
    kind: 'u8',
    encode: ['dcmcjpls', '+en'],
    decode: 'dcmdjpls',
    lossless: false,
  },
];

test(
  'JPEG, JPEG lossless and JPEG-LS series (DCMTK-encoded) read as DCMTK decodes them',
  { skip },
  async (t: TestContext) => {
    if (!haveReference(t)) return;
    const tmp = tempDir(t);
    // one Python process: sources, DCMTK encodings and decodings, pydicom's readings
    const kinds = ['ct', 'mr', 'u8'] as const;
    const src = (k: Kind) => path.join(tmp, `src-${k}`);
    const enc = (i: number) => path.join(tmp, `enc-${i}`);
    const dec = (i: number) => path.join(tmp, `dec-${i}`);
    const answers = await referenceBatch(
      ...kinds.flatMap((k) => [
        ['synth-series', src(k), k, '3'],
        ['dicom', src(k), `${src(k)}.bin`],
      ]),
      ...CASES.flatMap((c, i) => [
        ['dcmtk', c.encode[0]!, src(c.kind), enc(i), ...c.encode.slice(1)],
        ['dcmtk', c.decode, enc(i), dec(i)],
        ['dicom', dec(i), `${dec(i)}.bin`],
      ]),
    );
    const sources = new Map(kinds.map((k, j) => [k, stackOf(answers[2 * j + 1]!, `${src(k)}.bin`)]));
    for (const [i, c] of CASES.entries()) {
      const source = sources.get(c.kind)!;
      const first = fs.readFileSync(path.join(enc(i), fs.readdirSync(enc(i)).sort()[0]!));
      assert.ok(first.includes(Buffer.from(c.syntax)), `${c.name}: the encoded file carries ${c.syntax}`);
      const vol = await readDicomSeries(enc(i));
      const ref = stackOf(answers[2 * kinds.length + 3 * i + 2]!, `${dec(i)}.bin`);
      assert.deepEqual(vol.shape, ref.shape, c.name);
      assert.equal(vol.datatype, ref.dtype, c.name);
      assert.ok(affineDiff(vol.affine, ref.affine) < 1e-6, c.name);
      assert.equal(sha(vol.data), ref.sha, `${c.name}: values differ from DCMTK's decoding`);
      if (c.lossless) assert.equal(sha(vol.data), source.sha, `${c.name}: not the generated values`);
      else if (c.syntax === '1.2.840.10008.1.2.4.81') {
        const orig = fs.readFileSync(source.bin);
        const wide = vol.datatype === 'uint8' ? 1 : 2;
        const read = (b: Buffer, k: number) => (wide === 1 ? b[k]! : b.readUInt16LE(2 * k));
        const got = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
        let worst = 0;
        for (let k = 0; k < orig.length / wide; k++)
          worst = Math.max(worst, Math.abs(read(got, k) - read(orig, k)));
        assert.ok(worst <= 2 && worst > 0, `${c.name}: largest error ${worst}, NEAR is 2`);
      }
    }
  },
);

test(
  '12-bit JPEG extended is refused with the syntax named; garbage in a JPEG-LS frame is an ImageFormatError',
  { skip },
  async (t) => {
    if (!haveReference(t)) return;
    const tmp = tempDir(t);
    const [src, ext, ll, fake] = ['src', 'ext', 'll', 'fake'].map((d) => path.join(tmp, d)) as [
      string,
      string,
      string,
      string,
    ];
    await referenceBatch(
      ['synth-series', src, 'mr', '2'],
      ['dcmtk', 'dcmcjpeg', src, ext, '+ee'],
      // JPEG lossless data relabelled as JPEG-LS: CharLS fails, the reader names the file and syntax
      ['dcmtk', 'dcmcjpeg', src, ll, '+e1'],
      ['transcode', ll, fake, '-', 'fakejpegls', '2'],
    );
    await assert.rejects(
      readDicomSeries(ext),
      (e: unknown) =>
        e instanceof ImageFormatError &&
        /1\.2\.840\.10008\.1\.2\.4\.51 \(JPEG Extended\) with 12-bit samples is not supported/.test(
          e.message,
        ),
    );
    await assert.rejects(
      readDicomSeries(fake),
      (e: unknown) =>
        e instanceof ImageFormatError &&
        /\.dcm: cannot decode 1\.2\.840\.10008\.1\.2\.4\.80 \(JPEG-LS Lossless\)/.test(e.message),
    );
  },
);
