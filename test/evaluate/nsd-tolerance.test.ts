// NSD at exact tolerances: a surface distance equal to the tolerance up to rounding counts as within
// (relative epsilon NSD_RELATIVE_EPSILON). Spacings from an oblique affine come out as 1.0000000023 mm
// where the header says 1 mm; a one-voxel distance must still count against a 1 mm tolerance, as
// scipy with the header's spacing counts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCase, NSD_RELATIVE_EPSILON } from '../../src/evaluate/metrics.js';
import { scipyAvailable, scipyMetrics, type RefCase } from './scipyRef.js';

const OBLIQUE = 1.0000000023;
const SHAPE: [number, number, number] = [14, 12, 10];

/** A ball of radius r (voxels) centred at c: label 1. */
function ball(c: [number, number, number], r: number): Int32Array {
  const [nx, ny, nz] = SHAPE;
  const a = new Int32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++)
        if ((i - c[0]) ** 2 + (j - c[1]) ** 2 + (k - c[2]) ** 2 <= r * r) a[i + nx * (j + ny * k)] = 1;
  return a;
}

const nsd = (pred: Int32Array, ref: Int32Array, s: number, tol: number) =>
  evaluateCase(
    { data: pred, shape: SHAPE, spacing: [s, s, s] },
    { data: ref, shape: SHAPE, spacing: [s, s, s] },
    {
      labels: [1],
      toleranceMm: tol,
    },
  )['1']!.nsd;

test('a box shifted by one voxel: every distance is 0 or one voxel, NSD at 1 mm is 1 with 1.0000000023 mm spacing', () => {
  const [nx, ny, nz] = SHAPE;
  const box = (x0: number) => {
    const a = new Int32Array(nx * ny * nz);
    for (let k = 2; k < 8; k++)
      for (let j = 2; j < 9; j++) for (let i = x0; i < x0 + 6; i++) a[i + nx * (j + ny * k)] = 1;
    return a;
  };
  const pred = box(4);
  const ref = box(3);
  assert.equal(nsd(pred, ref, 1, 1), 1);
  assert.equal(nsd(pred, ref, OBLIQUE, 1), 1);
  // the one-voxel distances are many: below one voxel they all fall out
  const zeroOnly = nsd(pred, ref, OBLIQUE, 0.999);
  assert.ok(zeroOnly < 0.8, `${zeroOnly}`);
  // just beyond the epsilon, a distance no longer counts
  assert.equal(nsd(pred, ref, 1 + 10 * NSD_RELATIVE_EPSILON, 1), zeroOnly);
});

test('NSD with 1.0000000023 mm spacing equals scipy with the header spacing of 1 mm', (t) => {
  if (!scipyAvailable()) return t.skip('/usr/bin/python3 lacks numpy or scipy: install python3-scipy');
  const pred = ball([6.3, 5.8, 4.6], 3.4);
  const ref = ball([7.1, 5.2, 5.1], 3.1);
  const refCase = (s: number, tol: number): RefCase => ({
    pred,
    ref,
    shape: SHAPE,
    spacing: [s, s, s],
    targets: { '1': [1] },
    toleranceMm: tol,
  });
  const [header1, oblique1, header2, oblique2] = scipyMetrics([
    refCase(1, 1),
    refCase(OBLIQUE, 1),
    refCase(1, 2),
    refCase(OBLIQUE, 2),
  ]).map((r) => r['1']!.nsd!);
  // scipy compares strictly: with the oblique spacing its one-voxel (and two-voxel) distances drop out
  assert.ok(oblique1! < header1!, `scipy ${oblique1} vs ${header1}: the case must have one-voxel distances`);
  assert.ok(oblique2! < header2!, `scipy ${oblique2} vs ${header2}: the case must have two-voxel distances`);
  assert.ok(
    Math.abs(nsd(pred, ref, OBLIQUE, 1) - header1!) < 1e-12,
    `${nsd(pred, ref, OBLIQUE, 1)} vs ${header1}`,
  );
  assert.ok(Math.abs(nsd(pred, ref, OBLIQUE, 2) - header2!) < 1e-12);
  assert.ok(Math.abs(nsd(pred, ref, 1, 1) - header1!) < 1e-12);
});
