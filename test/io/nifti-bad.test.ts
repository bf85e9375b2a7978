// Bad NIfTI input gives one ImageFormatError naming the file, never another exception or a hang:
// listed cases first, then a bounded fuzz of mutated headers, truncations and damaged gzip.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { elementsPerVoxel } from '../../src/io/datatype.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { readImage } from '../../src/io/image.js';
import { encodeNifti, parseNifti, readNifti } from '../../src/io/nifti.js';
import { makeVolume } from './fixtures.js';
import { prng, tempDir } from './helpers.js';

const good = (): Buffer => Buffer.concat(encodeNifti(makeVolume('int16', [6, 5, 4])));

/** Writes `bytes` to a file and expects reading it to fail with an ImageFormatError matching `re`. */
async function rejects(dir: string, name: string, bytes: Uint8Array, re: RegExp): Promise<void> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  await assert.rejects(readNifti(file), (e: unknown) => {
    assert.ok(e instanceof ImageFormatError, `${name}: ${String(e)}`);
    assert.ok(e.message.startsWith(file), e.message);
    assert.match(e.message, re, name);
    return true;
  });
}

test('listed bad inputs each give one clear ImageFormatError', async (t) => {
  const dir = tempDir(t);
  const base = good();
  const gz = zlib.gzipSync(base);
  const with_ = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(base);
    f(b);
    return b;
  };
  await rejects(dir, 'truncated.nii.gz', gz.subarray(0, gz.length >> 1), /truncated/);
  await rejects(dir, 'trailer-cut.nii.gz', gz.subarray(0, gz.length - 4), /truncated/);
  const corrupt = Buffer.from(gz);
  for (let i = 20; i < 40; i++) corrupt[i] = 0xff - corrupt[i]!;
  await rejects(dir, 'corrupt.nii.gz', corrupt, /corrupt gzip|too short/);
  const crc = Buffer.from(gz);
  crc[crc.length - 6]! ^= 0x55;
  await rejects(dir, 'crc.nii.gz', crc, /corrupt gzip/);
  await rejects(
    dir,
    'magic.nii',
    with_((b) => b.write('xy1\0', 344, 'latin1')),
    /magic/,
  );
  await rejects(
    dir,
    'pair.nii',
    with_((b) => b.write('ni1\0', 344, 'latin1')),
    /pair/,
  );
  await rejects(dir, 'text.nii', Buffer.from('hello, this is not an image at all'.repeat(20)), /not a NIfTI/);
  await rejects(dir, 'empty.nii', Buffer.alloc(0), /not a NIfTI/);
  const huge = with_((b) => [1, 2, 3].forEach((k) => b.writeInt16LE(32767, 40 + 2 * k)));
  await rejects(dir, 'huge.nii', huge, /2\^31/);
  await rejects(dir, 'huge.nii.gz', zlib.gzipSync(huge), /2\^31/);
  // Fewer than 2^31 voxels but far more bytes than the file (or its gzip stream) can hold.
  const big = with_((b) => {
    b.writeInt16LE(30000, 42);
    b.writeInt16LE(30000, 44);
    b.writeInt16LE(2, 46); // int16: 1.8e9 voxels, 3.4 GiB
  });
  await rejects(dir, 'big.nii', big, /too short/);
  await rejects(dir, 'big.nii.gz', zlib.gzipSync(big), /gzip file can hold/);
  await rejects(dir, 'bigger.nii', with_((b) => {
    b.writeInt16LE(30000, 42);
    b.writeInt16LE(30000, 44);
    b.writeInt16LE(2, 46);
    b.writeInt16LE(64, 70); // float64: 13 GiB
  }), /more than a buffer can hold/); // prettier-ignore
  await rejects(
    dir,
    'complex.nii',
    with_((b) => b.writeInt16LE(32, 70)),
    /unsupported datatype 32 \(complex64\)/,
  );
  await rejects(
    dir,
    'code3.nii',
    with_((b) => b.writeInt16LE(3, 70)),
    /unknown datatype code 3/,
  );
  await rejects(dir, 'short.nii', base.subarray(0, base.length - 10), /too short/);
  await rejects(dir, 'short.nii.gz', zlib.gzipSync(base.subarray(0, base.length - 10)), /too short/);
  await rejects(dir, 'header-only.nii', base.subarray(0, 200), /too short/);
  await rejects(
    dir,
    'nan-sform.nii',
    with_((b) => b.writeFloatLE(NaN, 280 + 4)),
    /sform.*NaN/,
  );
  await rejects(
    dir,
    'nan-qform.nii',
    with_((b) => {
      b.writeInt16LE(0, 254);
      b.writeFloatLE(NaN, 260);
    }),
    /qform.*NaN/,
  );
  await rejects(
    dir,
    'nan-pixdim.nii',
    with_((b) => {
      b.writeInt16LE(0, 252);
      b.writeInt16LE(0, 254);
      b.writeFloatLE(NaN, 80);
    }),
    /pixdim.*NaN/,
  );
  await rejects(
    dir,
    'dim0.nii',
    with_((b) => b.writeInt16LE(9, 40)),
    /dim\[0\]/,
  );
  await rejects(
    dir,
    'negdim.nii',
    with_((b) => b.writeInt16LE(-4, 44)),
    /dim\[2\] = -4/,
  );
  await rejects(
    dir,
    'offset.nii',
    with_((b) => b.writeFloatLE(1e12, 108)),
    /too short/,
  );
  await rejects(
    dir,
    'singular.nii',
    with_((b) => b.fill(0, 280, 328)),
    /singular/,
  );
  await assert.rejects(readImage(path.join(dir, 'missing.nii')), ImageFormatError);
  await assert.rejects(readImage(path.join(dir, 'text.txt')), ImageFormatError);
});

/** Parses `bytes`; either a consistent Volume or an ImageFormatError is acceptable. */
async function parseOrFormatError(bytes: Uint8Array, what: string): Promise<'ok' | 'error'> {
  try {
    const v = await parseNifti(bytes, 'fuzz.nii');
    const voxels = v.shape.reduce((a, b) => a * b, 1);
    assert.equal(v.data.length, voxels * elementsPerVoxel(v.datatype), what);
    assert.ok(v.affine.flat().every(Number.isFinite), what);
    return 'ok';
  } catch (e) {
    if (e instanceof ImageFormatError) return 'error';
    throw new Error(`${what}: ${String(e)}`, { cause: e });
  }
}

test(
  'fuzz: mutated headers, truncations and damaged gzip parse or throw ImageFormatError',
  { timeout: 60_000 },
  async () => {
    const rand = prng(20240601);
    const int = (n: number): number => Math.floor(rand() * n);
    const specials = [0, 1, -1, 255, 32767, -32768, 0x7fffffff, NaN, Infinity, -Infinity, 1e30, 348, 540];
    const counts = { ok: 0, error: 0 };
    for (const version of [1, 2] as const) {
      const base = Buffer.concat(encodeNifti(makeVolume('float32', [6, 5, 4]), 'fuzz', version));
      const headerSize = version === 1 ? 352 : 544;
      for (let m = 0; m < 150; m++) {
        const b = Buffer.from(base);
        const edits = 1 + int(4);
        for (let e = 0; e < edits; e++) {
          const at = int(headerSize - 8);
          const kind = int(3);
          if (kind === 0) b[at] = int(256);
          else if (kind === 1)
            b.writeInt16LE(specials[int(6)]!, at); // the int16-sized ones
          else b.writeFloatLE(specials[int(specials.length)]!, at);
        }
        counts[await parseOrFormatError(b, `v${version} mutation ${m}`)]++;
      }
      for (let m = 0; m < 60; m++) {
        const cut = int(base.length);
        counts[await parseOrFormatError(base.subarray(0, cut), `v${version} cut at ${cut}`)]++;
      }
      const gz = zlib.gzipSync(base);
      for (let m = 0; m < 60; m++) {
        const b = Buffer.from(gz);
        if (m % 2) b[int(b.length)] = int(256);
        counts[
          await parseOrFormatError(m % 2 ? b : b.subarray(0, int(b.length)), `v${version} gzip damage ${m}`)
        ]++;
      }
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert.ok(counts.ok > 20 && counts.error > 100, JSON.stringify(counts));
  },
);
