// Folds and predict shards as jobs: `medseg queue folds` queues the folds of a tiny dataset, two
// `medseg worker` processes train them (each fold's checkpoints and out-of-fold predictions land
// where `train --fold F` puts them); `medseg queue predict --shards 2` and a worker segment a folder,
// with the same label maps as one `predict` over the whole folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { openStorage } from '../../src/search/storage/open.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../../../bin/medseg');
const run = promisify(execFile);

test('queued folds and predict shards are run by workers', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-jobs-'));
  const ds = (await writeSynthDataset(findTask('hippocampus'), root, { seed: 2, size: 'tiny', cases: 5 }))
    .dir;
  const model = path.join(root, 'model');
  const url = `sqlite:${path.join(root, 'jobs.sqlite')}`;
  const q = await run(process.execPath, [
    cli,
    'queue',
    'folds',
    ds,
    '-m',
    model,
    '--storage',
    url,
    '--folds',
    '0,1',
    '--epochs',
    '1',
    '--iters-per-epoch',
    '1',
    '--memory-gb',
    '1',
  ]);
  assert.match(q.stdout, /queued 2 fold job\(s\)/);
  const workers = ['a', 'b'].map((id) =>
    run(process.execPath, [cli, 'worker', '--storage', url, '--threads', '1', '--id', id]),
  );
  const outs = await Promise.all(workers);
  assert.ok(outs.every((o) => /worker [ab]: \d job\(s\)/.test(o.stdout)));
  const s = await openStorage(url);
  try {
    const jobs = await s.jobs();
    assert.deepEqual(
      jobs.map((j) => [j.kind, j.state, (j.payload as { fold: number }).fold]),
      [
        ['fold', 'done', 0],
        ['fold', 'done', 1],
      ],
    );
    for (const f of [0, 1]) {
      const dir = path.join(model, '3d_fullres', `fold_${f}`);
      assert.ok(existsSync(path.join(dir, 'checkpoint_latest.safetensors')), `fold ${f} checkpoint`);
      assert.equal(readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').length, 1);
      assert.ok(
        readdirSync(path.join(dir, 'validation')).some((n) => n.endsWith('.nii.gz')),
        `fold ${f} validation`,
      );
    }
    // predict shards: 5 images in 2 shards, against one predict of the whole folder
    const images = path.join(ds, 'imagesTr');
    const sharded = path.join(root, 'sharded');
    const qp = await run(process.execPath, [
      cli,
      'queue',
      'predict',
      '-i',
      images,
      '-o',
      sharded,
      '-m',
      model,
      '--shards',
      '2',
      '--storage',
      url,
      '--folds',
      '0',
      '--config',
      '3d_fullres',
    ]);
    assert.match(qp.stdout, /queued 2 predict shard\(s\)/);
    await run(process.execPath, [cli, 'worker', '--storage', url, '--threads', '1']);
    const shardJobs = (await s.jobs()).filter((j) => j.kind === 'predict-shard');
    assert.deepEqual(
      shardJobs.map((j) => j.state),
      ['done', 'done'],
    );
    const direct = path.join(root, 'direct');
    await predict({
      input: images,
      output: direct,
      modelDir: model,
      folds: [0],
      config: '3d_fullres',
      threads: 1,
    });
    const names = readdirSync(direct)
      .filter((n) => n.endsWith('.nii.gz'))
      .sort();
    assert.equal(names.length, 5);
    assert.deepEqual(
      readdirSync(sharded)
        .filter((n) => n.endsWith('.nii.gz'))
        .sort(),
      names,
    );
    for (const n of names) {
      const a = await readImage(path.join(direct, n));
      const b = await readImage(path.join(sharded, n));
      assert.deepEqual(Array.from(b.data as ArrayLike<number>), Array.from(a.data as ArrayLike<number>), n);
    }
  } finally {
    await s.close();
  }
});
