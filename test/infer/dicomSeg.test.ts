// predict --output-format dicom-seg: on a DICOM series, the Segmentation object's masks equal the NIfTI
// prediction of the same model, slice by slice, as pydicom reads it back.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { trainModel } from '../../src/train/index.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { repoRoot } from '../io/helpers.js';

const PYTHON = '/usr/bin/python3';
const REF = path.join(repoRoot, 'test/io/dicom_seg_ref.py');

test('predict --output-format dicom-seg equals the NIfTI prediction on every slice', async (t) => {
  if (spawnSync(PYTHON, ['-c', 'import pydicom, numpy'], { stdio: 'ignore' }).status !== 0) {
    t.skip(`${PYTHON} with pydicom and numpy not available`);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-predseg-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 5,
    size: 'tiny',
    cases: 4,
  });
  const model = path.join(root, 'model');
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
  const c = plans.configurations['3d_fullres']!;
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  fs.writeFileSync(plansFile, JSON.stringify(plans));
  await trainModel({
    dataset: ds,
    modelDir: model,
    epochs: 1,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
  });
  const series = path.join(root, 'series');
  execFileSync(PYTHON, [REF, 'series', series]);
  const nifti = path.join(root, 'pred.nii.gz');
  const seg = path.join(root, 'pred.dcm');
  await predict({
    input: series,
    output: nifti,
    modelDir: model,
    config: '3d_fullres',
    checkpoint: 'latest',
    threads: 1,
  });
  await predict({
    input: series,
    output: seg,
    modelDir: model,
    config: '3d_fullres',
    checkpoint: 'latest',
    threads: 1,
    outputFormat: 'dicom-seg',
  });
  const labels = await readImage(nifti);
  const [nx, ny, nz] = labels.shape as [number, number, number];
  // the NIfTI affine gives each slice's world z (RAS z = LPS z)
  const zOf = (k: number) => labels.affine[2]![2]! * k + labels.affine[2]![3]!;
  const out = JSON.parse(execFileSync(PYTHON, [REF, 'check', seg, series], { encoding: 'utf8' })) as {
    frames: { sourceZ: number; segment: number; name: string; mask: number[][] }[];
  };
  const values = plans.labelValues.filter((v) => v !== 0);
  let frames = 0;
  for (const [s, v] of values.entries()) {
    for (let k = 0; k < nz; k++) {
      const expected = Array.from({ length: ny }, (_, j) =>
        Array.from({ length: nx }, (_, i) => (Number(labels.data[k * nx * ny + j * nx + i]) === v ? 1 : 0)),
      );
      const frame = out.frames.find((f) => f.segment === s + 1 && Math.abs(f.sourceZ - zOf(k)) < 1e-4);
      if (!expected.some((r) => r.some((x) => x))) {
        assert.equal(frame, undefined);
        continue;
      }
      frames++;
      assert.ok(frame, `label ${v} on slice ${k}: no frame`);
      assert.deepEqual(frame.mask, expected, `label ${v} on slice ${k}`);
    }
  }
  assert.equal(out.frames.length, frames);
  assert.ok(frames > 0, 'the prediction has some foreground to compare');
});

test('predict --output-format dicom-seg refuses an input that is not a DICOM series', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-predseg-'));
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
    seed: 5,
    size: 'tiny',
    cases: 2,
  });
  const model = path.join(root, 'model');
  await plan(ds, model, { memoryGb: 1 });
  await assert.rejects(
    predict({
      input: path.join(ds, 'imagesTr'),
      output: path.join(root, 'out'),
      modelDir: model,
      outputFormat: 'dicom-seg',
    }),
    /needs DICOM series/,
  );
  fs.rmSync(root, { recursive: true, force: true });
});
