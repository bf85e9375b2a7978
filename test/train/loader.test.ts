// The batch loader: batches made in worker threads are bit-identical to the same steps made in the
// calling thread (the batch of a step is a function of seed and step only), a failing worker
// rejects next() with one clear error instead of hanging, and close() stops the workers. Also the
// imageChannels option of augmentation: extra (prior) channels only move, their values stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask, Rng } from '../../src/synth/index.js';
import { prepare } from '../../src/train/prepare.js';
import { BatchLoader, LoaderError, makeBatch, type BatchSpec } from '../../src/train/loader.js';
import { augmentBatch } from '../../src/train/augment.js';
import { Tensor, setThreads, tidy } from '../../src/engine/index.js';

// workers run one libtorch thread: the calling thread does too, so that nothing but the thread
// making the batch differs
setThreads(1);

let specPromise: Promise<BatchSpec> | undefined;
function spec(): Promise<BatchSpec> {
  specPromise ??= (async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-loader-'));
    const ds = await writeSynthDataset(findTask('hippocampus'), path.join(root, 'data'), {
      seed: 2,
      size: 'tiny',
      cases: 3,
    });
    const p = await prepare(ds.dir, path.join(root, 'model'), '3d_fullres', { memoryGb: 1 });
    return { dir: p.preprocessedDir, cases: p.cases, patch: p.config.patch, batchSize: 3, seed: 11 };
  })();
  return specPromise;
}

async function arrays(loader: BatchLoader, step: number): Promise<{ x: Float32Array; y: BigInt64Array }> {
  const b = await loader.next(step);
  try {
    return { x: b.x.toArray() as Float32Array, y: b.y.toArray() as BigInt64Array };
  } finally {
    b.x.dispose();
    b.y.dispose();
  }
}

test('batches made in workers equal those made in the calling thread, bit for bit', async () => {
  const s = await spec();
  const inThread = new BatchLoader({ ...s, workers: 0 });
  const workers = new BatchLoader({ ...s, workers: 2, prefetch: 3 });
  try {
    await workers.ready();
    // in order, then a step again and out of order (a budget run's timing steps, a restart)
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 2, 0, 9];
    const seen = new Map<number, Float32Array>();
    for (const step of steps) {
      const a = await arrays(inThread, step);
      const b = await arrays(workers, step);
      assert.deepEqual(b.x, a.x, `x of step ${step}`);
      assert.deepEqual(b.y, a.y, `y of step ${step}`);
      const direct = makeBatch(s, step);
      assert.deepEqual(direct.x, a.x);
      assert.deepEqual(direct.xShape, [3, 1, ...s.patch]);
      if (seen.has(step)) assert.deepEqual(seen.get(step), a.x, `step ${step} made twice`);
      seen.set(step, a.x);
    }
    assert.notDeepEqual(seen.get(0), seen.get(1), 'different steps, different batches');
    // another seed, other batches
    const other = makeBatch({ ...s, seed: 12 }, 0);
    assert.notDeepEqual(other.x, seen.get(0));
  } finally {
    await workers.close();
    await inThread.close();
  }
  await assert.rejects(workers.next(0), /after close/);
});

test(
  'a failure inside a worker reaches next() as one LoaderError, never a hang',
  { timeout: 60_000 },
  async () => {
    const s = await spec();
    const loader = new BatchLoader({ ...s, dir: path.join(s.dir, 'missing'), workers: 2 });
    try {
      await assert.rejects(loader.next(0), (e: Error) => {
        assert.ok(e instanceof LoaderError, String(e));
        assert.match(e.message, /batch of step \d+ failed in worker \d: .*ENOENT/);
        return true;
      });
      // the loader stays failed: every later call gets the same error at once
      await assert.rejects(loader.next(1), /failed in worker/);
    } finally {
      await loader.close();
    }
    // workers that cannot start (their data cannot be cloned): the constructor says so
    assert.throws(
      () => new BatchLoader({ ...s, workers: 1, cases: [{ ...s.cases[0]!, f: () => 1 } as never] }),
      (e: Error) => e instanceof LoaderError && /cannot start worker 0/.test(e.message),
    );
  },
);

test('close() right after the constructor waits for the starting workers to exit', async () => {
  // a resumed run that has no epoch left closes its loader before the workers are ready: a worker
  // whose 'ready' arrived after the stop must stay referenced until it exits, or the event loop
  // empties while close() awaits its exit (the process ended silently, before validation)
  const s = await spec();
  const loader = new BatchLoader({ ...s, workers: 2 });
  await loader.close();
  await assert.rejects(loader.next(0), /next\(\) after close\(\)/);
});

test('imageChannels: intensity augmentation spares the extra channels, spatial moves them', () => {
  // channel 0: an image; channel 1: a binary prior. Without rotation (interpolation) the prior
  // may only be mirrored: its values stay 0/1 and its sum stays the same.
  const size = [2, 2, 12, 12, 12];
  const vox = 12 ** 3;
  const x = new Float32Array(2 * 2 * vox);
  const src = new Rng(1);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / vox) % 2;
    x[i] = c === 0 ? src.normal() : src.next() < 0.3 ? 1 : 0;
  }
  const priorSum = (a: Float32Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) if (Math.floor(i / vox) % 2 === 1) s += a[i]!;
    return s;
  };
  let imageChanged = 0;
  let priorChanged = 0;
  tidy(() => {
    const xt = Tensor.fromArray(x, size);
    const yt = Tensor.fromArray(new BigInt64Array(2 * vox), [2, 12, 12, 12]);
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentBatch(xt, yt, new Rng(seed), { rotation: false, imageChannels: 1 });
      const a = out.x.toArray() as Float32Array;
      for (let i = 0; i < a.length; i++)
        if (Math.floor(i / vox) % 2 === 1) assert.ok(a[i] === 0 || a[i] === 1, 'prior values kept');
      assert.equal(priorSum(a), priorSum(x));
      // the image's sorted values change only through intensity transforms (mirroring permutes)
      const img = Float32Array.from(a.subarray(0, vox)).sort();
      const img0 = Float32Array.from(x.subarray(0, vox)).sort();
      if (img.some((v, i) => v !== img0[i])) imageChanged++;
      // by default (all channels) the same draws change the prior too
      const all = augmentBatch(xt, yt, new Rng(seed), { rotation: false }).x.toArray() as Float32Array;
      if (priorSum(all) !== priorSum(x)) priorChanged++;
    }
  });
  assert.ok(imageChanged > 0, 'intensity transforms applied to the image channel');
  assert.ok(priorChanged > 0, 'without imageChannels, intensity transforms reach every channel');
});
