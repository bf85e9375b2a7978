// `medseg train --nproc 2` end to end on a tiny synthetic dataset: two ranks train, rank 0 alone
// prints and writes the checkpoints and the log; a resumed run continues on both ranks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { distributedBackends } from '../../src/distributed/index.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/medseg');
const skip = distributedBackends().gloo ? false : 'this addon was built without Gloo';

test(
  'train --nproc 2: rank 0 alone prints and writes; --resume continues on both ranks',
  { skip },
  async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-ddp-cli-'));
    const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
      seed: 2,
      size: 'tiny',
      cases: 4,
    });
    const model = path.join(root, 'model');
    const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
    const c = plans.configurations['3d_fullres']!;
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
    writeFileSync(plansFile, JSON.stringify(plans));
    const train = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          cli,
          'train',
          ds,
          '-m',
          model,
          '--iters-per-epoch',
          '2',
          '--threads',
          '1',
          '--memory-gb',
          '1',
          '--no-validation',
          '--nproc',
          '2',
          '--dist-timeout',
          '60s',
          ...extra,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, MASTER_ADDR: '', MASTER_PORT: '', RANK: '', WORLD_SIZE: '' },
        },
      );
    const first = train('--epochs', '1');
    assert.equal(first.status, 0, first.stderr);
    // one result line (rank 0's); rank 1 said nothing, not even through the launcher's prefix
    assert.equal(first.stdout.match(/^trained 1 epochs/gm)?.length, 1, first.stdout);
    assert.doesNotMatch(first.stderr, /\[rank 1\]/);
    const fold = path.join(model, '3d_fullres', 'fold_0');
    assert.ok(existsSync(path.join(fold, 'checkpoint_latest.safetensors')));
    assert.equal(readFileSync(path.join(fold, 'log.jsonl'), 'utf8').trim().split('\n').length, 1);
    const again = train('--epochs', '2', '--resume');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resumed from .* at epoch 1\/2/);
    assert.equal(readFileSync(path.join(fold, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
  },
);
