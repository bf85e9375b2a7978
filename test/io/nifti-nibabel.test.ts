// NIfTI against nibabel (the reference Python): files medseg writes read the same in nibabel, files
// nibabel writes (both byte orders, both versions, each geometry method) read the same in medseg.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bytesOf } from '../../src/io/datatype.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import type { VoxelType } from '../../src/io/volume.js';
import { makeVolume } from './fixtures.js';
import { affineDiff, haveReference, reference, sha, tempDir } from './helpers.js';

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
  version: number;
}

const TYPES: VoxelType[] = [
  'uint8',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
];

/** A rigid oblique affine (rotation about an oblique axis, zooms 0.7/0.8/2.5, a reflection). */
const RIGID = (() => {
  const [a, b] = [0.4, -0.3];
  const rx = [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
  const rz = [[Math.cos(b), -Math.sin(b), 0], [Math.sin(b), Math.cos(b), 0], [0, 0, 1]];
  const r = rz.map((row) => [0, 1, 2].map((c) => row.reduce((s, v, k) => s + v * rx[k]![c]!, 0)));
  const zooms = [0.7, 0.8, -2.5];
  return [...r.map((row, i) => [...row.map((v, c) => Math.fround(v * zooms[c]!)), [10.5, -20.25, 30][i]!]), [0, 0, 0, 1]];
})(); // prettier-ignore

test('files medseg writes read identically in nibabel', async (t) => {
  if (!haveReference(t)) return;
  const dir = tempDir(t);
  const files: string[] = [];
  const expect = new Map<string, { type: VoxelType; sha: string; shape: number[] }>();
  for (const type of TYPES) {
    for (const [version, ext] of [
      [1, '.nii.gz'],
      [2, '.nii'],
    ] as const) {
      const vol = makeVolume(type, [4, 3, 2, 2], 3, RIGID);
      const file = path.join(dir, `${type}-v${version}${ext}`);
      await writeNifti(file, vol, { version });
      files.push(file);
      expect.set(file, { type, sha: sha(vol.data), shape: vol.shape });
    }
  }
  const infos = await reference<Info>('info', ...files);
  for (const info of infos) {
    const e = expect.get(info.file)!;
    assert.equal(info.dtype, e.type, info.file);
    assert.deepEqual(info.shape, e.shape);
    assert.equal(info.sha, e.sha, info.file);
    assert.equal(info.version, info.file.includes('-v2') ? 2 : 1);
    assert.ok(affineDiff(info.affine, RIGID) < 1e-6, info.file);
    // The qform alone must give the same geometry for a rigid affine.
    assert.ok(affineDiff(info.qform, RIGID) < 1e-5, `${info.file} qform`);
    assert.equal(info.qcode, 1);
    assert.equal(info.scode, 1);
  }
});

interface Spec {
  out: string;
  bin: string;
  dtype: string;
  shape: number[];
  affine: number[][];
  qcode: number;
  scode: number;
  zooms?: number[];
  endian?: string;
  version?: number;
}

test('files nibabel writes (big/little endian, NIfTI-1/2, qform/sform/none) read identically in medseg', async (t) => {
  if (!haveReference(t)) return;
  const dir = tempDir(t);
  const specs: Spec[] = [];
  const data = new Map<string, { sha: string; type: VoxelType }>();
  let n = 0;
  for (const type of [...TYPES, 'rgb24' as const]) {
    for (const endian of ['<', '>']) {
      for (const version of [1, 2]) {
        for (const [qcode, scode] of [
          [2, 0],
          [0, 3],
          [0, 0],
        ] as const) {
          const vol = makeVolume(type, [3, 4, 2], n, RIGID);
          const bin = path.join(dir, `${n}.bin`);
          fs.writeFileSync(bin, bytesOf(vol.data));
          const out = path.join(dir, `${n}-${type}${n % 2 ? '.nii' : '.nii.gz'}`);
          specs.push({
            out,
            bin,
            dtype: type,
            shape: vol.shape,
            affine: RIGID,
            qcode,
            scode,
            zooms: [0.7, 0.8, 2.5],
            endian,
            version,
          });
          data.set(out, { sha: sha(vol.data), type });
          n++;
        }
      }
    }
  }
  const specFile = path.join(dir, 'specs.json');
  fs.writeFileSync(specFile, JSON.stringify(specs));
  await reference('write', specFile);
  const infos = new Map((await reference<Info>('info', ...specs.map((s) => s.out))).map((i) => [i.file, i]));
  for (const s of specs) {
    const vol = await readNifti(s.out);
    const info = infos.get(s.out)!;
    const what = `${path.basename(s.out)} endian ${s.endian} v${s.version} q${s.qcode}/s${s.scode}`;
    assert.equal(vol.datatype, data.get(s.out)!.type, what);
    assert.equal(sha(vol.data), data.get(s.out)!.sha, what);
    assert.equal(vol.header?.format, s.version === 2 ? 'nifti2' : 'nifti1');
    if (s.qcode || s.scode) {
      assert.ok(affineDiff(vol.affine, info.affine) < 1e-6, what);
    } else {
      // Method 1: the standard's pixdim diagonal (nibabel centres such images instead).
      assert.deepEqual(vol.affine, [[0.7, 0, 0, 0], [0, 0.8, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 1]].map((r) => r.map(s.version === 2 ? (v) => v : Math.fround))); // prettier-ignore
    }
    vol.spacing.forEach((sp, c) => assert.ok(Math.abs(sp - [0.7, 0.8, 2.5][c]!) < 1e-6, what));
  }
});
