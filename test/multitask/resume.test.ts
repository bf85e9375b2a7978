// train-multi --resume: a run stopped after its first epoch and resumed ends where the uninterrupted
// run ends (every weight and optimiser moment, the log's losses and per-task step counts), and a
// second run into the same folder without --resume is refused with one line that names --resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { trainMulti, type MultiEpochLog } from '../../src/multitask/train.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { medseg } from '../cli/run.js';

const tiny = (s: { features: number[] }) =>
  ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }) as never;

const logOf = (model: string) =>
  readFileSync(path.join(model, '3d_fullres/fold_0/log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MultiEpochLog);

test('train-multi --resume: stopped after epoch 1 and resumed == uninterrupted', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-multi-resume-'));
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  const common = {
    datasets: [a.dir, b.dir],
    epochs: 3,
    itersPerEpoch: 4,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    seed: 3,
    body: tiny,
  };
  const whole = path.join(root, 'whole');
  await trainMulti({ ...common, modelDir: whole });
  const cut = path.join(root, 'cut');
  const first = await trainMulti({ ...common, modelDir: cut, onEpoch: () => 'stop' });
  assert.equal(first.history.length, 1, 'the first run stopped after one epoch');
  // no --resume: refused, naming the flag
  await assert.rejects(
    trainMulti({ ...common, modelDir: cut }),
    /already holds a training run: pass --resume/,
  );
  // another seed than the run's: refused
  await assert.rejects(
    trainMulti({ ...common, seed: 4, modelDir: cut, resume: true }),
    /trained with seed 3/,
  );
  const lines: string[] = [];
  const r = await trainMulti({
    ...common,
    seed: undefined,
    modelDir: cut,
    resume: true,
    log: (s) => lines.push(s),
  });
  assert.ok(
    lines.some((l) => /resumed from .* at epoch 1\/3/.test(l)),
    lines.join('\n'),
  );
  assert.equal(r.history.length, 3);

  const [w, c] = [logOf(whole), logOf(cut)];
  assert.equal(c.length, 3);
  for (let e = 0; e < 3; e++) {
    assert.ok(Math.abs(w[e]!.train_loss - c[e]!.train_loss) < 1e-5, `epoch ${e + 1} loss`);
    assert.deepEqual(
      Object.fromEntries(Object.entries(w[e]!.tasks).map(([k, v]) => [k, v.steps])),
      Object.fromEntries(Object.entries(c[e]!.tasks).map(([k, v]) => [k, v.steps])),
    );
    assert.equal(w[e]!.lr, c[e]!.lr);
  }
  // every tensor of checkpoint_latest, the optimiser's momentum buffers included
  const file = (m: string) => path.join(m, '3d_fullres/fold_0/checkpoint_latest.safetensors');
  const [x, y] = [await loadSafetensors(file(whole)), await loadSafetensors(file(cut))];
  assert.deepEqual([...x.tensors.keys()].sort(), [...y.tensors.keys()].sort());
  assert.ok([...x.tensors.keys()].some((k) => k.startsWith('optimizer.')));
  let worst = 0;
  for (const [k, t] of x.tensors) {
    if (k.startsWith('rng.')) continue;
    if (t.dtype !== 'float32') continue;
    const p = t.toArray() as Float32Array;
    const q = y.tensors.get(k)!.toArray() as Float32Array;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
  }
  assert.ok(worst < 1e-5, `resumed weights differ by ${worst}`);
  assert.deepEqual(JSON.parse(x.metadata.state!), JSON.parse(y.metadata.state!));
  for (const t of [...x.tensors.values(), ...y.tensors.values()]) t.dispose();

  // the CLI: one line naming --resume
  const cli = medseg(['train-multi', a.dir, b.dir, '-m', cut, '--epochs', '3']);
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /pass --resume to continue it/);
});
