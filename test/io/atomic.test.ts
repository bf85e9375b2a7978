// A full disk (ENOSPC, a real 64 KiB tmpfs) while writing plans, a checkpoint or a prediction leaves
// the previous file intact, removes the partial temporary file, and says so in one line naming the
// file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { AtomicWriteError, atomicWrite, writeFileAtomic } from '../../src/io/atomic.js';
import { writePlans, type Plans } from '../../src/plan/planner.js';
import { saveSafetensors, loadSafetensors } from '../../src/nn/safetensors.js';
import { Tensor, tidy } from '../../src/engine/index.js';
import { writeImage, readImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';
import { mountTmpfs } from '../helpers/mounts.js';

const FULL = '(ENOSPC: no space left on the device); the previous file is intact';

/** Plans-shaped JSON of about `bytes` bytes (its size is what matters here). */
const plansOfSize = (bytes: number): Plans =>
  ({ version: 1, dataset: 'x', lowresReason: 'r'.repeat(bytes) }) as unknown as Plans;

test('plans: ENOSPC keeps the previous plans.json and says so; no temporary file is left', async (t) => {
  const m = mountTmpfs(t, 64);
  if (typeof m === 'string') return t.skip(m);
  const file = await writePlans(m.dir, plansOfSize(1000));
  const before = readFileSync(file, 'utf8');
  await assert.rejects(writePlans(m.dir, plansOfSize(200_000)), (e: Error) => {
    assert.ok(e instanceof AtomicWriteError);
    assert.equal(e.message, `${file}: could not be written ${FULL}`);
    assert.equal(e.code, 'ENOSPC');
    assert.equal(e.previousIntact, true);
    return true;
  });
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.deepEqual(readdirSync(m.dir), ['plans.json']);
  // the space the failed write took is free again: a small write succeeds
  await writePlans(m.dir, plansOfSize(2000));
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).lowresReason.length, 2000);
});

test('checkpoint: ENOSPC keeps the previous safetensors file loadable with its old values', async (t) => {
  const m = mountTmpfs(t, 64);
  if (typeof m === 'string') return t.skip(m);
  const file = path.join(m.dir, 'checkpoint_latest.safetensors');
  const small = new Float32Array(1000).map((_, i) => i * 0.5);
  const w = Tensor.fromArray(small, [10, 100]);
  await saveSafetensors(file, new Map([['w', w]]), { epoch: '3' });
  w.dispose();
  const big = Tensor.fromArray(new Float32Array(100_000).fill(1), [100_000]);
  await assert.rejects(saveSafetensors(file, new Map([['w', big]]), { epoch: '4' }), {
    name: 'AtomicWriteError',
    message: `${file}: could not be written ${FULL}`,
  });
  big.dispose();
  const back = await loadSafetensors(file);
  assert.equal(back.metadata.epoch, '3');
  const arr = tidy(() => back.tensors.get('w')!.toArray() as Float32Array);
  assert.deepEqual([...arr], [...small]);
  for (const t of back.tensors.values()) t.dispose();
  assert.deepEqual(readdirSync(m.dir), ['checkpoint_latest.safetensors']);
});

test('prediction: ENOSPC while writing a .nii.gz keeps the previous label map', async (t) => {
  const m = mountTmpfs(t, 64);
  if (typeof m === 'string') return t.skip(m);
  const vol = (n: number, data: Uint8Array): Volume => ({
    data,
    shape: [n, n, n],
    spacing: [1, 1, 1],
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
    datatype: 'uint8',
    sclSlope: 1,
    sclInter: 0,
  });
  const file = path.join(m.dir, 'case_001.nii.gz');
  await writeImage(file, vol(8, new Uint8Array(512).fill(1)));
  // random bytes do not compress: 64^3 = 256 KiB cannot fit
  await assert.rejects(writeImage(file, vol(64, crypto.randomBytes(64 ** 3))), {
    message: `${file}: could not be written ${FULL}`,
  });
  const back = await readImage(file);
  assert.deepEqual(back.shape, [8, 8, 8]);
  assert.ok((back.data as Uint8Array).every((v) => v === 1));
  assert.deepEqual(readdirSync(m.dir), ['case_001.nii.gz']);
});

test('a failed first write says no file was left; a read-only folder names EROFS', async (t) => {
  const m = mountTmpfs(t, 64);
  if (typeof m === 'string') return t.skip(m);
  const file = path.join(m.dir, 'plans.json');
  await assert.rejects(writeFileAtomic(file, 'x'.repeat(200_000)), {
    message: `${file}: could not be written (ENOSPC: no space left on the device); no file was left there`,
  });
  assert.equal(existsSync(file), false);
  const ro = mountTmpfs(t, 64, true);
  if (typeof ro === 'string') return t.skip(ro);
  const inRo = path.join(ro.dir, 'plans.json');
  await assert.rejects(writeFileAtomic(inRo, '{}'), {
    message: `${inRo}: could not be written (EROFS: read-only file system); no file was left there`,
  });
});

test('an error of the content itself passes through unchanged, the previous file intact', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a.bin');
  writeFileSync(file, 'old');
  const bad = new RangeError('tensor has the wrong shape');
  await assert.rejects(
    atomicWrite(file, async (tmp) => {
      writeFileSync(tmp, 'partial');
      throw bad;
    }),
    (e) => e === bad,
  );
  assert.equal(readFileSync(file, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['a.bin']);
});
