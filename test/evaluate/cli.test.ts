// `medseg evaluate` over folders of NIfTI files: matching by name, JSON and CSV, warnings, errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { command } from '../../src/cli/evaluate.js';
import { evaluateCase, evaluateFolders } from '../../src/evaluate/index.js';
import { writeImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';

const SHAPE = [8, 7, 6];
const SPACING: [number, number, number] = [1, 1.5, 2];

function labelVolume(fill: (i: number, j: number, k: number) => number, shift = 0): Volume {
  const [nx, ny, nz] = SHAPE as [number, number, number];
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = fill(i, j, k);
  const affine = [
    [SPACING[0], 0, 0, shift],
    [0, SPACING[1], 0, 0],
    [0, 0, SPACING[2], 0],
    [0, 0, 0, 1],
  ];
  return { data, shape: [...SHAPE], spacing: SPACING, affine, datatype: 'uint8', sclSlope: 1, sclInter: 0 };
}

const box = (x0: number, x1: number, label: number) => (i: number, j: number, k: number) =>
  i >= x0 && i <= x1 && j >= 1 && j <= 4 && k >= 1 && k <= 3 ? label : i === 0 && j === 0 && k === 0 ? 2 : 0;

function tempDirs(t: TestContext): { pred: string; ref: string; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-eval-cli-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const pred = path.join(root, 'pred');
  const ref = path.join(root, 'ref');
  fs.mkdirSync(pred);
  fs.mkdirSync(ref);
  return { pred, ref, root };
}

function capture(t: TestContext): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => out.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => err.push(a.join(' ')));
  return { out, err };
}

test('evaluate --json --csv: matched cases, unmatched files, means and infinite distances', async (t) => {
  const { pred, ref, root } = tempDirs(t);
  const vols = {
    predA: labelVolume(box(2, 5, 1)),
    refA: labelVolume(box(3, 6, 1)),
    predB: labelVolume(box(1, 4, 1)),
    refB: labelVolume(() => 0),
  };
  await writeImage(path.join(pred, 'a.nii.gz'), vols.predA);
  await writeImage(path.join(ref, 'a.nii.gz'), vols.refA);
  await writeImage(path.join(pred, 'b.nii'), vols.predB);
  await writeImage(path.join(ref, 'b.nii'), { ...vols.refB, affine: labelVolume(() => 0, 3).affine });
  await writeImage(path.join(pred, 'only-pred.nii.gz'), vols.predA);
  await writeImage(path.join(ref, 'only-ref.nii.gz'), vols.refA);
  fs.writeFileSync(path.join(pred, 'plans.json'), '{}'); // not an image: ignored
  const csv = path.join(root, 'metrics.csv');

  const io = capture(t);
  const argv = [
    '--pred',
    pred,
    '--ref',
    ref,
    '--regions',
    'fg=1,2',
    '--tolerance-mm',
    '1',
    '--csv',
    csv,
    '--json',
  ];
  assert.equal(await command.run(argv), 0);
  t.mock.restoreAll();

  const report = JSON.parse(io.out.at(-1)!);
  assert.deepEqual(
    report.cases.map((c: { case: string }) => c.case),
    ['a', 'b'],
  );
  assert.deepEqual(report.unmatched, { pred: ['only-pred.nii.gz'], ref: ['only-ref.nii.gz'] });
  assert.equal(report.toleranceMm, 1);
  const stderr = io.err.join('\n');
  assert.match(stderr, /warning: 1 prediction\(s\) without a reference .*only-pred\.nii\.gz/);
  assert.match(stderr, /warning: 1 reference\(s\) without a prediction .*only-ref\.nii\.gz/);
  assert.match(stderr, /warning: b: the affines of .*b\.nii and .*b\.nii differ/);

  // Case a equals the in-memory evaluation; keys are labels then regions.
  const direct = evaluateCase(vols.predA, vols.refA, {
    regions: [{ name: 'fg', labels: [1, 2] }],
    toleranceMm: 1,
  });
  assert.deepEqual(Object.keys(report.cases[0].metrics), ['1', '2', 'fg']);
  assert.deepEqual(report.cases[0].metrics, JSON.parse(JSON.stringify(direct)));
  assert.equal(report.cases[0].metrics['1'].dice, (2 * 3) / 8);
  // Case b: the reference is empty: infinite distances are null and left out of the mean.
  const b1 = report.cases[1].metrics['1'];
  assert.equal(b1.hd95, null);
  assert.equal(b1.nsd, 0);
  assert.equal(b1.dice, 0);
  const mean1 = report.mean['1'];
  assert.equal(mean1.cases, 2);
  assert.equal(mean1.infinite.hd95, 1);
  assert.equal(mean1.hd95, direct['1']!.hd95);
  assert.equal(mean1.dice, direct['1']!.dice / 2);
  // Label 2 (the corner voxel) is in both of a's files but only in b's pred.
  assert.equal(report.cases[0].metrics['2'].dice, 1);
  assert.equal(report.cases[1].metrics['2'].dice, 0);

  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(rows.length, 1 + 2 * 3);
  assert.match(rows[0]!, /^case,label,dice,iou,hd95_mm,hd_mm,assd_mm,nsd,/);
  assert.match(
    rows.find((r) => r.startsWith('b,1,'))!,
    /^b,1,0,0,inf,inf,inf,0,/,
  );
  assert.match(io.out.join('\n'), /mean over 2 case\(s\), NSD tolerance 1 mm/);
});

test('a label absent from a case scores as both empty in that case', async (t) => {
  const { pred, ref } = tempDirs(t);
  await writeImage(path.join(pred, 'x.nrrd'), labelVolume(box(2, 5, 3)));
  await writeImage(path.join(ref, 'x.nrrd'), labelVolume(box(2, 5, 3)));
  await writeImage(path.join(pred, 'y.nrrd'), labelVolume(box(2, 5, 1)));
  await writeImage(path.join(ref, 'y.nrrd'), labelVolume(box(2, 5, 1)));
  const report = await evaluateFolders({ predDir: pred, refDir: ref });
  assert.deepEqual(report.keys, ['1', '2', '3']);
  assert.equal(report.cases[0]!.metrics['1']!.dice, 1);
  assert.equal(report.cases[0]!.metrics['1']!.predVoxels, 0);
  assert.equal(report.mean['3']!.dice, 1);
  assert.equal(report.warnings.length, 0);
});

test('bad input: no matching names, shape mismatch and non-integer labels name the file', async (t) => {
  const { pred, ref } = tempDirs(t);
  await writeImage(path.join(pred, 'p1.nii.gz'), labelVolume(box(2, 5, 1)));
  await writeImage(path.join(ref, 'r1.nii.gz'), labelVolume(box(2, 5, 1)));
  t.mock.method(console, 'log', () => {});
  t.mock.method(console, 'error', () => {});
  await assert.rejects(
    command.run(['--pred', pred, '--ref', ref]),
    /no file name is in both .*pred.*ref.*p1\.nii\.gz and r1\.nii\.gz/,
  );

  const small = labelVolume(box(2, 5, 1));
  await writeImage(path.join(pred, 'r1.nii.gz'), {
    ...small,
    data: small.data.slice(0, 8 * 7 * 5),
    shape: [8, 7, 5],
  });
  await assert.rejects(
    command.run(['--pred', pred, '--ref', ref]),
    /shape mismatch: .*pred\/r1\.nii\.gz is 8×7×5 but .*ref\/r1\.nii\.gz is 8×7×6/,
  );

  const f = labelVolume(box(2, 5, 1));
  const data = Float32Array.from(f.data as Uint8Array);
  data[9] = 0.5;
  await writeImage(path.join(pred, 'r1.nii.gz'), { ...f, data, datatype: 'float32' });
  await assert.rejects(
    command.run(['--pred', pred, '--ref', ref]),
    /pred\/r1\.nii\.gz: voxel \(1, 1, 0\) holds 0\.5, not an integer label/,
  );
});

test('evaluate usage errors', async (t) => {
  t.mock.method(console, 'log', () => {});
  assert.equal(await command.run(['--help']), 0);
  for (const argv of [
    [],
    ['--pred', 'p'],
    ['--pred', 'p', '--ref', 'r', '--labels', '1,x'],
    ['--pred', 'p', '--ref', 'r', '--regions', 'wt:1,2'],
    ['--pred', 'p', '--ref', 'r', '--regions', 'wt=1;wt=2'],
    ['--pred', 'p', '--ref', 'r', '--regions', '7=1'],
    ['--pred', 'p', '--ref', 'r', '--tolerance-mm', '-1'],
    ['--pred', 'p', '--ref', 'r', '--tolerance-mm', 'x'],
    ['--pred', 'p', '--ref', 'r', '--bogus'],
    ['--pred', 'p', '--ref', 'r', 'extra'],
  ]) {
    await assert.rejects(command.run(argv), UsageError, argv.join(' '));
  }
});
