// NIfTI write → read round trips without any outside reference: every type, both versions, gzip
// or not, 4D, big-endian input, multi-member gzip, and geometry kept bit for bit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { qformToAffine } from '../../src/io/affine.js';
import { encodeNifti, parseNifti, readNifti, writeNifti } from '../../src/io/nifti.js';
import { ALL_TYPES, OBLIQUE, makeVolume } from './fixtures.js';
import { affineDiff, realFile, tempDir } from './helpers.js';

const f32 = (m: number[][]): number[][] => m.map((r) => r.map(Math.fround));

test('every datatype round-trips exactly through .nii and .nii.gz, NIfTI-1 and -2', async (t) => {
  const dir = tempDir(t);
  for (const type of ALL_TYPES) {
    for (const version of [1, 2] as const) {
      for (const ext of ['.nii', '.nii.gz']) {
        const vol = makeVolume(type);
        const file = path.join(dir, `${type}-${version}${ext}`);
        await writeNifti(file, vol, { version });
        const back = await readNifti(file);
        const what = `${type} v${version} ${ext}`;
        assert.equal(back.datatype, type, what);
        assert.deepEqual(back.shape, vol.shape, what);
        assert.deepEqual(back.data, vol.data, what);
        assert.equal(back.header?.format, version === 1 ? 'nifti1' : 'nifti2');
        // NIfTI-1 stores the sform in float32, NIfTI-2 in float64.
        assert.deepEqual(back.affine, version === 1 ? f32(vol.affine) : vol.affine, what);
        assert.equal(back.sclSlope, 1);
        assert.equal(back.sclInter, 0);
      }
    }
  }
});

test('4D images keep the 4th dimension and its order', async (t) => {
  const vol = makeVolume('int16', [3, 4, 2, 5]);
  const file = path.join(tempDir(t), 'four.nii.gz');
  await writeNifti(file, vol);
  const back = await readNifti(file);
  assert.deepEqual(back.shape, [3, 4, 2, 5]);
  assert.deepEqual(back.data, vol.data);
});

test('scaling: slope and intercept are kept; slope 0 or NaN means none', async () => {
  const vol = { ...makeVolume('int16'), sclSlope: 0.5, sclInter: -3 };
  const parts = encodeNifti(vol);
  const back = await parseNifti(Buffer.concat(parts));
  assert.equal(back.sclSlope, 0.5);
  assert.equal(back.sclInter, -3);
  for (const slope of [0, NaN]) {
    const header = Buffer.from(parts[0]!);
    header.writeFloatLE(slope, 112);
    const v = await parseNifti(Buffer.concat([header, parts[1]!]));
    assert.equal(v.sclSlope, 1, `slope ${slope}`);
    assert.equal(v.sclInter, 0, `slope ${slope}`);
  }
});

/** Byte-swaps every numeric NIfTI-1 header field: [offset, element size, count]. */
const NIFTI1_FIELDS: [number, number, number][] = [
  [0, 4, 1], [32, 4, 1], [36, 2, 1], [40, 2, 8], [56, 4, 3], [68, 2, 4], [76, 4, 8], [108, 4, 3],
  [120, 2, 1], [124, 4, 4], [140, 4, 2], [252, 2, 2], [256, 4, 18],
]; // prettier-ignore

function toBigEndian(le: Uint8Array, elementSize: number): Buffer {
  const b = Buffer.from(le);
  for (const [at, size, count] of NIFTI1_FIELDS) {
    for (let k = 0; k < count; k++) b.subarray(at + k * size, at + (k + 1) * size).reverse();
  }
  for (let i = 352; i + elementSize <= b.length; i += elementSize) b.subarray(i, i + elementSize).reverse();
  return b;
}

test('big-endian files (told by sizeof_hdr) read the same values and geometry', async () => {
  for (const type of ['int16', 'uint16', 'int32', 'float32', 'float64', 'int64', 'uint8'] as const) {
    const vol = { ...makeVolume(type), sclSlope: 2, sclInter: 1 };
    const le = Buffer.concat(encodeNifti(vol));
    const be = toBigEndian(le, type === 'uint8' ? 1 : type.endsWith('64') ? 8 : type.endsWith('16') ? 2 : 4);
    assert.notDeepEqual(be.subarray(0, 4), le.subarray(0, 4));
    const a = await parseNifti(le);
    const b = await parseNifti(be);
    assert.deepEqual(b.data, a.data, type);
    assert.deepEqual(b.affine, a.affine, type);
    assert.deepEqual(b.shape, a.shape);
    assert.equal(b.sclSlope, 2);
    assert.equal(b.sclInter, 1);
  }
});

test('multi-member gzip and trailing zero padding read as one stream', async () => {
  const vol = makeVolume('float32', [20, 20, 20]);
  const raw = Buffer.concat(encodeNifti(vol));
  const cut = 1000; // inside the voxel data
  const twoMembers = Buffer.concat([zlib.gzipSync(raw.subarray(0, cut)), zlib.gzipSync(raw.subarray(cut))]);
  assert.deepEqual((await parseNifti(twoMembers)).data, vol.data);
  const padded = Buffer.concat([zlib.gzipSync(raw), Buffer.alloc(512)]);
  assert.deepEqual((await parseNifti(padded)).data, vol.data);
});

test('header extensions and a larger vox_offset are skipped', async () => {
  const vol = makeVolume('int16');
  const [header, data] = encodeNifti(vol);
  const h = Buffer.from(header!);
  h.writeFloatLE(352 + 32, 108); // vox_offset
  h.writeUInt8(1, 348); // extension flag
  const ext = Buffer.alloc(32);
  ext.writeInt32LE(32, 0); // esize
  ext.writeInt32LE(6, 4); // ecode: comment
  ext.write('a comment', 8);
  const back = await parseNifti(Buffer.concat([h, ext, data!]));
  assert.deepEqual(back.data, vol.data);
});

test('an unchanged read volume is rewritten with its qform and sform fields bit for bit', async (t) => {
  // mt1 has qform_code 1 and sform_code 1 with slightly different matrices: both must survive.
  const src = realFile(t, 'spinalcord-sct/mt/mt1.nii.gz');
  if (!src) return;
  const vol = await readNifti(src);
  const out = path.join(tempDir(t), 'mt1.nii');
  await writeNifti(out, vol);
  const before = zlib.gunzipSync(fs.readFileSync(src)).subarray(252, 328);
  const after = fs.readFileSync(out).subarray(252, 328);
  assert.deepEqual(after, before); // codes, quaternion, qoffset, srow
  assert.deepEqual(
    fs.readFileSync(out).subarray(76, 92),
    zlib.gunzipSync(fs.readFileSync(src)).subarray(76, 92),
  );
});

test('a changed affine is written to both sform and a matching qform', async (t) => {
  const vol = makeVolume('uint8');
  const moved = { ...vol, affine: OBLIQUE.map((r, i) => (i < 3 ? [...r.slice(0, 3), r[3]! + 10] : r)) };
  const file = path.join(tempDir(t), 'moved.nii');
  await writeNifti(file, moved);
  const back = await readNifti(file);
  assert.ok(affineDiff(back.affine, moved.affine) < 1e-5);
  const q = back.header!.qform!;
  // The qform holds the rigid part: column lengths of the affine, an orthonormal rotation, the offset.
  const qa = qformToAffine(q);
  const norms = [0, 1, 2].map((c) => Math.hypot(qa[0]![c]!, qa[1]![c]!, qa[2]![c]!));
  norms.forEach((n, c) => assert.ok(Math.abs(n - moved.spacing[c]!) < 1e-5));
  const rot = [0, 1, 2].map((c) => [0, 1, 2].map((r) => qa[r]![c]! / norms[c]!));
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const dot = rot[a]!.reduce((s, v, k) => s + v * rot[b]![k]!, 0);
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-6);
    }
  }
  // Nearest rotation: each column within the shear's angle of the affine's direction.
  rot.forEach((col, c) => {
    const dir = [0, 1, 2].map((r) => moved.affine[r]![c]! / moved.spacing[c]!);
    assert.ok(col.reduce((s, v, k) => s + v * dir[k]!, 0) > 0.97);
  });
  assert.deepEqual(q.offset, [22.5, -20.25, 17.75]);
  assert.equal(q.qfac, -1);
});

test('codes 0/0 are kept for an unchanged method-1 image, and replaced when the affine moved', async (t) => {
  const dir = tempDir(t);
  const plain = {
    ...makeVolume('int16'),
    affine: [
      [2, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 4, 0],
      [0, 0, 0, 1],
    ],
  };
  const header = { qformCode: 0, sformCode: 0, qform: { quatern: [0, 0, 0] as [number, number, number], offset: [0, 0, 0] as [number, number, number], qfac: 1, pixdim: [2, 3, 4] as [number, number, number] }, sform: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] }; // prettier-ignore
  await writeNifti(path.join(dir, 'a.nii'), { ...plain, header });
  const a = await readNifti(path.join(dir, 'a.nii'));
  assert.equal(a.header!.sformCode, 0);
  assert.equal(a.header!.qformCode, 0);
  assert.deepEqual(a.affine, plain.affine);
  const moved = {
    ...plain,
    header,
    affine: [
      [2, 0, 0, 5],
      [0, 3, 0, 6],
      [0, 0, 4, 7],
      [0, 0, 0, 1],
    ],
  };
  await writeNifti(path.join(dir, 'b.nii'), moved);
  const b = await readNifti(path.join(dir, 'b.nii'));
  assert.ok(b.header!.sformCode! > 0);
  assert.deepEqual(b.affine, moved.affine);
});
