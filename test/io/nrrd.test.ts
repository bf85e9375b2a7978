// NRRD: the pyradiomics cases against a separate numpy reading of the header text, their NIfTI
// conversion against nibabel, ITK-like files written by numpy (no shared data needed), and
// hand-made attached/detached files for each encoding and layout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { convertImage } from '../../src/io/convert.js';
import { bytesOf } from '../../src/io/datatype.js';
import { ImageFormatError } from '../../src/io/errors.js';
import { readImage } from '../../src/io/image.js';
import { readNrrd, writeNrrd } from '../../src/io/nrrd.js';
import { volumeStats } from '../../src/io/values.js';
import { ALL_TYPES, OBLIQUE, makeVolume } from './fixtures.js';
import { affineDiff, haveReference, realDataDir, realFile, reference, sha, tempDir } from './helpers.js';

const CASES = ['brain1_image', 'brain1_label', 'brain2_image', 'breast1_image', 'breast1_label'];

interface Ref {
  shape: number[];
  affine: number[][];
  sha: string;
  dtype: string;
  min: number;
  max: number;
  mean: number;
}

test('pyradiomics NRRD cases match an independent numpy reading (LPS flipped to RAS)', async (t) => {
  if (!realFile(t, 'pyradiomics/brain1_image.nrrd') || !haveReference(t)) return;
  for (const c of CASES) {
    const file = path.join(realDataDir, 'pyradiomics', `${c}.nrrd`);
    const [ref] = await reference<Ref>('nrrd', file);
    const vol = await readNrrd(file);
    assert.deepEqual(vol.shape, ref!.shape, c);
    assert.equal(vol.datatype, ref!.dtype, c);
    assert.ok(affineDiff(vol.affine, ref!.affine) < 1e-9, c);
    assert.equal(sha(vol.data), ref!.sha, c);
    const s = volumeStats(vol);
    assert.deepEqual([s.min, s.max], [ref!.min, ref!.max]);
    assert.ok(Math.abs(s.mean - ref!.mean) < 1e-9 * Math.max(1, ref!.mean));
    // The header text says LPS with positive x spacing: in RAS the x column must point left.
    assert.ok(vol.affine[0]![0]! < 0, c);
  }
});

test('a pyradiomics NRRD converted to NIfTI reads the same in nibabel', async (t) => {
  if (!realFile(t, 'pyradiomics/brain1_image.nrrd') || !haveReference(t)) return;
  const out = path.join(tempDir(t), 'brain1.nii.gz');
  const file = path.join(realDataDir, 'pyradiomics/brain1_image.nrrd');
  await convertImage(file, out);
  const [[ref], [info]] = await Promise.all([reference<Ref>('nrrd', file), reference<Ref>('info', out)]);
  assert.equal(info!.sha, ref!.sha);
  assert.deepEqual(info!.shape, ref!.shape);
  assert.ok(affineDiff(info!.affine, ref!.affine) < 1e-4); // NIfTI-1 stores float32
});

test('writeNrrd → readNrrd round-trips every type, 4D and colour, raw and gzip', async (t) => {
  const dir = tempDir(t);
  for (const type of ALL_TYPES) {
    for (const gzip of [true, false]) {
      const vol = makeVolume(type, type === 'int16' ? [4, 3, 2, 3] : [4, 3, 2]);
      const file = path.join(dir, `${type}-${gzip}.nrrd`);
      await writeNrrd(file, vol, { gzip });
      const back = await readNrrd(file);
      assert.equal(back.datatype, type);
      assert.deepEqual(back.shape, vol.shape, type);
      assert.deepEqual(back.data, vol.data, type);
      assert.ok(affineDiff(back.affine, vol.affine) < 1e-12, type);
    }
  }
  await assert.rejects(
    writeNrrd(path.join(dir, 's.nrrd'), { ...makeVolume('int16'), sclSlope: 2 }),
    /cannot store scaling/,
  );
});

/** An attached or detached NRRD made by hand. */
function nrrdText(fields: Record<string, string>): string {
  return [
    'NRRD0005',
    '# made by the test',
    ...Object.entries(fields).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\n');
}

const GEO = {
  space: 'left-posterior-superior',
  'space directions': '(0.8,-0.1,-0.05) (-0.1,-0.9,0.2) (-0.02,0.15,2.5)',
  'space origin': '(-12.5,30.25,7.75)',
};
/** GEO in RAS: x and y rows negated. */
const GEO_RAS = [
  [-0.8, 0.1, 0.02, 12.5],
  [0.1, 0.9, -0.15, -30.25],
  [-0.05, 0.2, 2.5, 7.75],
  [0, 0, 0, 1],
];

test('hand-made NRRD: detached raw/gzip, byte and line skip, file lists, ascii, hex, big endian', async (t) => {
  const dir = tempDir(t);
  const vol = makeVolume('int16', [4, 3, 2], 7, OBLIQUE);
  const le = Buffer.from(bytesOf(vol.data));
  const be = Buffer.from(le);
  for (let i = 0; i < be.length; i += 2) be.subarray(i, i + 2).reverse();
  const base = { type: 'short', dimension: '3', sizes: '4 3 2', ...GEO };
  const cases: [string, string, Buffer | undefined, Record<string, Buffer>][] = [
    ['attached-raw.nrrd', nrrdText({ ...base, endian: 'little', encoding: 'raw' }), le, {}],
    ['attached-be.nrrd', nrrdText({ ...base, endian: 'big', encoding: 'raw' }), be, {}],
    ['attached-gz.nrrd', nrrdText({ ...base, endian: 'little', encoding: 'gzip' }), zlib.gzipSync(le), {}],
    ['detached.nhdr', nrrdText({ ...base, endian: 'little', encoding: 'raw', 'data file': 'd.raw' }), undefined, { 'd.raw': le }],
    ['detached-gz.nhdr', nrrdText({ ...base, endian: 'big', encoding: 'gz', 'data file': 'd.raw.gz' }), undefined, { 'd.raw.gz': zlib.gzipSync(be) }],
    ['skip-end.nhdr', nrrdText({ ...base, endian: 'little', encoding: 'raw', 'byte skip': '-1', 'data file': 'e.raw' }), undefined, { 'e.raw': Buffer.concat([Buffer.alloc(77, 9), le]) }],
    ['lineskip.nhdr', nrrdText({ ...base, endian: 'little', encoding: 'raw', 'line skip': '2', 'byte skip': '3', 'data file': 'l.raw' }), undefined, { 'l.raw': Buffer.concat([Buffer.from('one\ntwo\nabc'), le]) }],
    ['list.nhdr', nrrdText({ ...base, endian: 'little', encoding: 'raw', 'data file': 'LIST' }).replace(/\n\n$/, '\ns0.raw\ns1.raw\n'), undefined, { 's0.raw': le.subarray(0, 24), 's1.raw': le.subarray(24) }],
    ['format.nhdr', nrrdText({ ...base, endian: 'little', encoding: 'raw', 'data file': 'f%02d.raw 1 2 1' }), undefined, { 'f01.raw': le.subarray(0, 24), 'f02.raw': le.subarray(24) }],
    ['ascii.nrrd', nrrdText({ ...base, encoding: 'ascii' }), Buffer.from(Array.from(vol.data as Int16Array).join(' \n')), {}],
    ['hex.nrrd', nrrdText({ ...base, endian: 'little', encoding: 'hex' }), Buffer.from(le.toString('hex').replace(/(.{16})/g, '$1\n')), {}],
  ]; // prettier-ignore
  for (const [name, header, attached, extra] of cases) {
    fs.writeFileSync(
      path.join(dir, name),
      attached ? Buffer.concat([Buffer.from(header), attached]) : header,
    );
    for (const [f, b] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), b);
    const back = await readImage(path.join(dir, name));
    assert.equal(back.datatype, 'int16', name);
    assert.deepEqual(back.shape, [4, 3, 2], name);
    assert.deepEqual(back.data, vol.data, name);
    assert.ok(affineDiff(back.affine, GEO_RAS) < 1e-12, name);
  }
});

test('hand-made NRRD layouts: a leading vector axis moves last, RAS/LAS spaces, 2D, spacings only', async (t) => {
  const dir = tempDir(t);
  // 3 components first (x fastest after them): the Volume wants them as the 4th dimension.
  const vec = new Float32Array(3 * 4 * 3 * 2).map((_, i) => i);
  const f1 = path.join(dir, 'vec.nrrd');
  const header = nrrdText({
    type: 'float', dimension: '4', sizes: '3 4 3 2', endian: 'little', encoding: 'raw', kinds: 'vector domain domain domain',
    space: 'right-anterior-superior', 'space directions': 'none (1,0,0) (0,2,0) (0,0,3)', 'space origin': '(1,2,3)',
  }); // prettier-ignore
  fs.writeFileSync(f1, Buffer.concat([Buffer.from(header), bytesOf(vec)]));
  const v = await readNrrd(f1);
  assert.deepEqual(v.shape, [4, 3, 2, 3]);
  for (let c = 0; c < 3; c++) {
    for (let s = 0; s < 24; s++) assert.equal(v.data[s + 24 * c], vec[c + 3 * s]);
  }
  assert.deepEqual(v.affine, [[1, 0, 0, 1], [0, 2, 0, 2], [0, 0, 3, 3], [0, 0, 0, 1]]); // prettier-ignore

  const f2 = path.join(dir, 'las.nrrd');
  const u8 = new Uint8Array(6).map((_, i) => i * 40);
  const las = nrrdText({ type: 'uchar', dimension: '2', sizes: '3 2', encoding: 'raw', space: 'left-anterior-superior', 'space directions': '(0.5,0,0) (0,0.5,0)', 'space origin': '(10,20,30)' }); // prettier-ignore
  fs.writeFileSync(f2, Buffer.concat([Buffer.from(las), u8]));
  const w = await readNrrd(f2);
  assert.deepEqual(w.shape, [3, 2, 1]);
  assert.deepEqual(w.affine, [[-0.5, -0, -0, -10], [0, 0.5, 0, 20], [0, 0, 1, 30], [0, 0, 0, 1]]); // prettier-ignore
  assert.deepEqual(w.data, u8);

  const f3 = path.join(dir, 'spacings.nrrd');
  const sp = nrrdText({ type: 'uchar', dimension: '3', sizes: '3 2 1', encoding: 'raw', spacings: '2 3 4' });
  fs.writeFileSync(f3, Buffer.concat([Buffer.from(sp), u8]));
  // No space named: read as ITK does, as LPS.
  assert.deepEqual((await readNrrd(f3)).affine, [[-2, -0, -0, -0], [-0, -3, -0, -0], [0, 0, 4, 0], [0, 0, 0, 1]]); // prettier-ignore
});

test('bad NRRD input gives ImageFormatError', async (t) => {
  const dir = tempDir(t);
  const base = { type: 'short', dimension: '3', sizes: '4 3 2', endian: 'little', encoding: 'raw', ...GEO };
  const bad: [string, string, RegExp][] = [
    ['magic.nrrd', 'NRRX0004\ntype: short\n\n', /not a NRRD/],
    ['notype.nrrd', nrrdText({ dimension: '3', sizes: '1 1 1', encoding: 'raw' }), /no "type"/],
    ['short.nrrd', nrrdText(base) + 'abc', /too short/],
    ['bzip.nrrd', nrrdText({ ...base, encoding: 'bzip2' }), /unsupported NRRD encoding/],
    ['nofile.nhdr', nrrdText({ ...base, 'data file': 'missing.raw' }), /cannot read data file/],
    ['sizes.nrrd', nrrdText({ ...base, sizes: '4 3' }), /does not match/],
    ['block.nrrd', nrrdText({ ...base, type: 'block' }), /unsupported NRRD type/],
    ['space.nrrd', nrrdText({ ...base, space: 'left-handed-thing' }), /unsupported NRRD space/],
    ['gz.nrrd', nrrdText({ ...base, encoding: 'gzip' }) + 'not gzip at all', /corrupt gzip/],
    ['nan.nrrd', nrrdText({ ...base, 'space origin': '(nan,0,0)' }) + 'x'.repeat(48), /NaN/],
  ];
  for (const [name, text, re] of bad) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    await assert.rejects(
      readNrrd(file),
      (e: unknown) => e instanceof ImageFormatError && re.test(e.message),
      name,
    );
  }
});

test('NRRD files written by numpy as ITK writes them (LPS, oblique, raw/gzip, attached/detached) read as written', async (t) => {
  if (!haveReference(t)) return;
  const dir = tempDir(t);
  const cases: [string, string, string][] = [
    ['short', 'gzip', '0'],
    ['float', 'raw', '0'],
    ['uchar', 'gzip', '1'],
    ['ushort', 'raw', '1'],
  ];
  for (const [kind, encoding, detached] of cases) {
    const file = path.join(dir, `${kind}-${encoding}.${detached === '1' ? 'nhdr' : 'nrrd'}`);
    const [truth] = await reference<Ref>('write-nrrd', file, kind, encoding, detached);
    // the independent numpy reading of the header text agrees with what was written (attached only)
    if (detached === '0') {
      const [numpyRead] = await reference<Ref>('nrrd', file);
      assert.equal(numpyRead!.sha, truth!.sha);
    }
    const vol = await readNrrd(file);
    const what = `${kind} ${encoding}${detached === '1' ? ' detached' : ''}`;
    assert.deepEqual(vol.shape, truth!.shape, what);
    assert.equal(vol.datatype, truth!.dtype, what);
    assert.equal(sha(vol.data), truth!.sha, what);
    assert.ok(affineDiff(vol.affine, truth!.affine) < 1e-9, what);
    assert.ok(vol.affine[0]![0]! < 0, `${what}: LPS x points left in RAS`);
  }
  // converted to NIfTI, nibabel reads the same values and geometry
  const file = path.join(dir, 'short-gzip.nrrd');
  const out = path.join(dir, 'short.nii.gz');
  await convertImage(file, out);
  const [[truth], [info]] = await Promise.all([reference<Ref>('nrrd', file), reference<Ref>('info', out)]);
  assert.equal(info!.sha, truth!.sha);
  assert.deepEqual(info!.shape, truth!.shape);
  assert.ok(affineDiff(info!.affine, truth!.affine) < 1e-4); // NIfTI-1 stores float32
});
