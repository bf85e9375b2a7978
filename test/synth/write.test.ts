// Synthetic tasks on disk: nnU-Net v2 datasets that pass the dataset check, read back to the generated
// voxels, and are the same files for the same seed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { checkDataset } from '../../src/dataset/check.js';
import { readDataset } from '../../src/dataset/read.js';
import { readImage } from '../../src/io/image.js';
import { findTask, generateCase } from '../../src/synth/generate.js';
import { writeSynthAll, writeSynthDataset } from '../../src/synth/write.js';

function tmp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-synth-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('all ten tasks pass the dataset check', async (t) => {
  const out = tmp(t);
  const results = await writeSynthAll(out, { size: 'tiny', cases: 3, seed: 5 });
  assert.equal(results.length, 10);
  for (const r of results) {
    const check = await checkDataset(r.dir);
    assert.ok(check.ok, check.report);
    assert.equal(check.warningCount, 0, check.report);
    assert.equal(check.dataset!.training.length, 3);
  }
  const brain = await readDataset(path.join(out, 'Dataset001_BrainTumour'));
  assert.deepEqual(brain.channelNames, ['FLAIR', 'T1w', 'T1gd', 'T2w']);
  assert.deepEqual(brain.regionClassOrder, [1, 2, 3]);
  assert.ok(brain.labels.some((c) => c.region && c.values.join() === '1,2,3'));
  const json = JSON.parse(fs.readFileSync(path.join(out, 'Dataset009_Spleen/dataset.json'), 'utf8'));
  assert.deepEqual(json.synthetic, {
    generator: 'medseg synth',
    task: 'spleen',
    msd_task: 9,
    seed: 5,
    size: 'tiny',
    cases: 3,
  });
  assert.deepEqual(json.channel_names, { '0': 'CT' });
});

test('files read back to the generated voxels and geometry', async (t) => {
  const out = tmp(t);
  const task = findTask('prostate');
  const r = await writeSynthDataset(task, out, { size: 'tiny', cases: 2, seed: 8 });
  const c = generateCase(task, 1, { seed: 8, size: 'tiny' });
  const adc = await readImage(path.join(r.dir, 'imagesTr', 'prostate_001_0001.nii.gz'));
  assert.equal(adc.datatype, 'float32');
  assert.deepEqual(adc.shape, c.channels[1]!.shape);
  assert.deepEqual(
    Buffer.from(adc.data.buffer, adc.data.byteOffset, adc.data.byteLength),
    Buffer.from(c.channels[1]!.data.buffer),
  );
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(adc.spacing[i]! - c.channels[1]!.spacing[i]!) < 1e-5);
  const label = await readImage(path.join(r.dir, 'labelsTr', 'prostate_001.nii.gz'));
  assert.deepEqual(Array.from(label.data as Uint8Array), Array.from(c.label.data as Uint8Array));
  // CT: int16 HU with the flipped x/y axes of DICOM-converted files.
  const s = await writeSynthDataset('spleen', out, { size: 'tiny', cases: 1 });
  const ct = await readImage(path.join(s.dir, 'imagesTr', 'spleen_000_0000.nii.gz'));
  assert.equal(ct.datatype, 'int16');
  assert.ok(ct.affine[0]![0]! < 0 && ct.affine[1]![1]! < 0 && ct.affine[2]![2]! > 0);
});

test('same seed → identical files; other seed → different; existing folder refused', async (t) => {
  const [a, b, c] = [tmp(t), tmp(t), tmp(t)];
  await writeSynthDataset('heart', a, { cases: 2, seed: 1 });
  await writeSynthDataset('heart', b, { cases: 2, seed: 1 });
  await writeSynthDataset('heart', c, { cases: 2, seed: 2 });
  const file = (root: string): string =>
    path.join(root, 'Dataset002_Heart', 'imagesTr', 'heart_001_0000.nii.gz');
  const data = async (root: string): Promise<Buffer> => {
    const v = await readImage(file(root));
    return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  };
  assert.ok((await data(a)).equals(await data(b)));
  assert.ok(fs.readFileSync(file(a)).equals(fs.readFileSync(file(b))), 'file bytes identical too');
  assert.ok(!(await data(a)).equals(await data(c)));
  await assert.rejects(writeSynthDataset('heart', a, { cases: 1 }), /not empty/);
  await writeSynthDataset('heart', a, { cases: 1, overwrite: true });
  assert.deepEqual(fs.readdirSync(path.join(a, 'Dataset002_Heart', 'labelsTr')), ['heart_000.nii.gz']);
});
