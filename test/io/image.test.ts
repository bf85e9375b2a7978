// readImage/writeImage dispatch, atomic writes, and convertImage's type changes and refusals.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { atomicWrite } from '../../src/io/atomic.js';
import { castVolume, toLabelVolume } from '../../src/io/cast.js';
import { convertImage } from '../../src/io/convert.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { readImage, writeImage } from '../../src/io/image.js';
import { scaledValues } from '../../src/io/values.js';
import { makeVolume } from './fixtures.js';
import { tempDir } from './helpers.js';

test('writeImage and readImage agree for each writable extension', async (t) => {
  const dir = tempDir(t);
  const vol = makeVolume('int16', [5, 4, 3]);
  for (const name of ['a.nii', 'a.nii.gz', 'a.NII.GZ', 'a.nrrd']) {
    await writeImage(path.join(dir, name), vol);
    const back = await readImage(path.join(dir, name));
    assert.deepEqual(back.data, vol.data, name);
    assert.deepEqual(back.shape, vol.shape, name);
  }
  // gzip or not follows the name.
  assert.deepEqual([...fs.readFileSync(path.join(dir, 'a.nii.gz')).subarray(0, 2)], [0x1f, 0x8b]);
  assert.equal(fs.readFileSync(path.join(dir, 'a.nii')).readInt32LE(0), 348);
  await assert.rejects(writeImage(path.join(dir, 'a.png'), vol), /cannot write this format/);
  await assert.rejects(writeImage(dir, vol), /is a folder/);
  await assert.rejects(readImage(path.join(dir, 'nothing.nii')), /no such file/);
});

test('writes are atomic: a failed write leaves the old file and no temporary file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'keep.nii.gz');
  const vol = makeVolume('uint8');
  await writeImage(file, vol);
  const before = fs.readFileSync(file);
  const broken = { ...vol, data: new Uint8Array(3) }; // does not match the shape
  await assert.rejects(writeImage(file, broken), ImageFormatError);
  await assert.rejects(
    atomicWrite(file, async (tmp) => {
      fs.writeFileSync(tmp, 'half a file');
      throw new Error('disk full');
    }),
    /disk full/,
  );
  assert.deepEqual(fs.readFileSync(file), before);
  assert.deepEqual(fs.readdirSync(dir), ['keep.nii.gz']);
});

test('convertImage refuses to write over its input, also through a link', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'in.nii.gz');
  await writeImage(file, makeVolume('int16'));
  const before = fs.readFileSync(file);
  fs.symlinkSync(file, path.join(dir, 'sym.nii.gz'));
  fs.linkSync(file, path.join(dir, 'hard.nii.gz'));
  for (const out of [
    file,
    path.join(dir, '.', 'in.nii.gz'),
    path.join(dir, 'sym.nii.gz'),
    path.join(dir, 'hard.nii.gz'),
  ]) {
    await assert.rejects(convertImage(file, out), /output is the input/, out);
  }
  assert.deepEqual(fs.readFileSync(file), before);
});

test('convert NIfTI → NRRD → NIfTI keeps type, values and geometry; scaling needs a float type for NRRD', async (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src.nii.gz');
  const vol = makeVolume('int32', [6, 5, 4]);
  await writeImage(src, vol);
  await convertImage(src, path.join(dir, 'mid.nrrd'));
  await convertImage(path.join(dir, 'mid.nrrd'), path.join(dir, 'back.nii'));
  const back = await readImage(path.join(dir, 'back.nii'));
  assert.equal(back.datatype, 'int32');
  assert.deepEqual(back.data, vol.data);
  assert.deepEqual(back.affine, (await readImage(src)).affine);

  const scaled = path.join(dir, 'scaled.nii');
  await writeImage(scaled, { ...makeVolume('int16'), sclSlope: 0.5, sclInter: -1 });
  await assert.rejects(convertImage(scaled, path.join(dir, 's.nrrd')), /--datatype float32/);
  await convertImage(scaled, path.join(dir, 's.nrrd'), { datatype: 'float32' });
  const s = await readImage(path.join(dir, 's.nrrd'));
  assert.equal(s.datatype, 'float32');
  assert.deepEqual(s.data, scaledValues(await readImage(scaled), 'float32'));
});

test('type changes go by real values; integer targets only when exact; labels pick the smallest type', () => {
  const f = { ...makeVolume('float32'), data: new Float32Array(60).map((_, i) => i % 5) };
  const u8 = castVolume(f, 'uint8');
  assert.equal(u8.datatype, 'uint8');
  assert.deepEqual(u8.data, Uint8Array.from(f.data));
  assert.equal(toLabelVolume(f).datatype, 'uint8');
  const big = { ...f, data: new Float32Array(60).map((_, i) => i * 2000) };
  assert.equal(toLabelVolume(big).datatype, 'int32');
  assert.equal(toLabelVolume({ ...f, data: new Float32Array(60).map((_, i) => -i) }).datatype, 'int16');
  assert.throws(
    () => castVolume({ ...f, data: new Float32Array(60).fill(0.5) }, 'int16'),
    /does not fit int16/,
  );
  assert.throws(
    () => castVolume({ ...f, data: new Float32Array(60).fill(300) }, 'uint8'),
    /does not fit uint8/,
  );
  // Scaled integers (the BraTS mask's kind) become their real values.
  const m = { ...makeVolume('int16'), sclSlope: 0.25, sclInter: 1 };
  const real = castVolume(m, 'float64');
  for (let i = 0; i < m.data.length; i++) assert.equal(real.data[i], (m.data as Int16Array)[i]! * 0.25 + 1);
  const m2 = { ...m, sclSlope: 2, sclInter: 1 };
  const wide = castVolume(m2, 'int64');
  assert.ok(wide.data instanceof BigInt64Array);
  for (let i = 0; i < m.data.length; i++)
    assert.equal(wide.data[i], BigInt((m.data as Int16Array)[i]! * 2 + 1));
});
