// DICOM Segmentation output read back by pydicom: every frame refers to the source slice at its own
// position, and its mask is the label map's on that slice, for each segment.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { readDicomSeries } from '../../src/io/dicom.js';
import { writeDicomSeg } from '../../src/io/dicomSeg.js';
import { repoRoot } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const REF = path.join(repoRoot, 'test/io/dicom_seg_ref.py');

function havePydicom(t: TestContext): boolean {
  const ok = spawnSync(PYTHON, ['-c', 'import pydicom, numpy'], { stdio: 'ignore' }).status === 0;
  if (!ok) t.skip(`${PYTHON} with pydicom and numpy not available`);
  return ok;
}

/** The test's label rule, in terms the reference can evaluate from positions alone. */
function labelAt(i: number, j: number, z: number): number {
  const q = Math.round(z / 2.5);
  if (q === 4) return 0; // one slice with no label at all: no frame for it
  if (i < 2 + (q % 3) && j > 5) return 1;
  return (i + 2 * j + q) % 7 === 0 ? 2 : 0;
}

interface Frame {
  sourceZ: number;
  frameZ: number;
  segment: number;
  name: string;
  mask: number[][];
}

test('DICOM SEG: frames on the right source slices, masks equal to the label map', async (t) => {
  if (!havePydicom(t)) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-seg-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, 'series');
  execFileSync(PYTHON, [REF, 'series', dir]);
  const vol = await readDicomSeries(dir);
  const [nx, ny, nz] = vol.shape as [number, number, number];
  const labels = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    const z = vol.affine[2]![2]! * k + vol.affine[2]![3]!; // RAS z = LPS z
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) labels[k * nx * ny + j * nx + i] = labelAt(i, j, z);
  }
  const file = path.join(tmp, 'seg.dcm');
  await writeDicomSeg(file, { ...vol, data: labels, datatype: 'uint8', sclSlope: 1, sclInter: 0 }, dir, [
    { value: 1, name: 'liver' },
    { value: 2, name: 'spleen' },
  ]);
  const out = JSON.parse(execFileSync(PYTHON, [REF, 'check', file, dir], { encoding: 'utf8' })) as {
    modality: string;
    sopClass: string;
    patient: string;
    frames: Frame[];
  };
  assert.equal(out.modality, 'SEG');
  assert.equal(out.sopClass, '1.2.840.10008.5.1.4.1.1.66.4');
  assert.equal(out.patient, 'Test^Seg');
  let expectedFrames = 0;
  for (const seg of [1, 2]) {
    for (let q = 8; q > 2; q--) {
      const z = q * 2.5;
      const expected = Array.from({ length: ny }, (_, j) =>
        Array.from({ length: nx }, (_, i) => (labelAt(i, j, z) === seg ? 1 : 0)),
      );
      const any = expected.some((r) => r.some((v) => v));
      const frame = out.frames.find((f) => f.segment === seg && Math.abs(f.sourceZ - z) < 1e-6);
      if (!any) {
        assert.equal(frame, undefined, `segment ${seg} at z ${z}: an empty frame was written`);
        continue;
      }
      expectedFrames++;
      assert.ok(frame, `segment ${seg} at z ${z}: no frame`);
      assert.equal(frame.frameZ, frame.sourceZ, 'the frame sits at its source slice');
      assert.equal(frame.name, seg === 1 ? 'liver' : 'spleen');
      assert.deepEqual(frame.mask, expected, `segment ${seg} at z ${z}`);
    }
  }
  assert.equal(out.frames.length, expectedFrames);
  assert.ok(expectedFrames >= 8);
});

test('DICOM SEG: a label map of another size than the series is refused', async (t) => {
  if (!havePydicom(t)) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-seg-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, 'series');
  execFileSync(PYTHON, [REF, 'series', dir]);
  const vol = await readDicomSeries(dir);
  const small = { ...vol, shape: [4, 4, 2], data: new Uint8Array(32), datatype: 'uint8' as const };
  await assert.rejects(
    writeDicomSeg(path.join(tmp, 'x.dcm'), small, dir, [{ value: 1, name: 'a' }]),
    /does not match the series/,
  );
  assert.ok(!fs.existsSync(path.join(tmp, 'x.dcm')));
});
