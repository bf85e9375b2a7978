// meta-train --resume: a meta-training stopped after an epoch and resumed ends with the very θ of the
// uninterrupted run (every float32 of checkpoint_latest equal, the RNG state and the trainer's state
// too, and the same log), for Reptile and for FOMAML (which draws one batch more per meta-iteration);
// a run with another seed ends elsewhere (the comparison can fail). Resuming with nothing to resume,
// with a setting that differs from the run's, or with other datasets is refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { metaTrain, type MetaTrainOptions } from '../../src/multitask/meta.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { medseg } from '../cli/run.js';

const tiny = (s: { features: number[] }) =>
  ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }) as never;

const fold = (m: string) => path.join(m, '3d_fullres/fold_0');
const logOf = (m: string) =>
  readFileSync(path.join(fold(m), 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { epoch: number; train_loss: number; val_dice: number[]; outer_step: number },
    );

/** Every tensor of two checkpoints as float arrays (the network's weights and the RNG state). */
async function checkpoints(a: string, b: string) {
  const file = (m: string) => path.join(fold(m), 'checkpoint_latest.safetensors');
  const [x, y] = [await loadSafetensors(file(a)), await loadSafetensors(file(b))];
  const keys = [...x.tensors.keys()].sort();
  assert.deepEqual(keys, [...y.tensors.keys()].sort());
  const arrays = (t: Map<string, { toArray(): unknown }>) =>
    keys.map((k) => Array.from(t.get(k)!.toArray() as ArrayLike<number | bigint>));
  const r = {
    keys,
    a: arrays(x.tensors),
    b: arrays(y.tensors),
    stateA: x.metadata.state,
    stateB: y.metadata.state,
  };
  for (const t of [...x.tensors.values(), ...y.tensors.values()]) t.dispose();
  return r;
}

async function datasets() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-meta-resume-'));
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  return { root, dirs: [a.dir, b.dir] };
}

for (const algorithm of ['reptile', 'fomaml'] as const) {
  test(`meta-train --resume (${algorithm}): stopped after epoch 1 and resumed == uninterrupted, bit for bit`, async () => {
    const { root, dirs } = await datasets();
    const common: Omit<MetaTrainOptions, 'modelDir'> = {
      datasets: dirs,
      algorithm,
      epochs: 3,
      itersPerEpoch: 2,
      innerSteps: 2,
      valPatches: 1,
      memoryGb: 1,
      threads: 1,
      workers: 0,
      seed: 3,
      body: tiny,
    };
    const whole = path.join(root, 'whole');
    await metaTrain({ ...common, modelDir: whole });
    const cut = path.join(root, 'cut');
    const first = await metaTrain({ ...common, modelDir: cut, onEpoch: () => 'stop' });
    assert.equal(first.history.length, 1, 'the first run stopped after one epoch');
    if (algorithm === 'reptile') {
      await assert.rejects(
        metaTrain({ ...common, modelDir: cut }),
        /already holds a training run: pass --resume/,
      );
      await assert.rejects(
        metaTrain({ ...common, seed: 4, modelDir: cut, resume: true }),
        /meta-trained with --seed 3, not 4/,
      );
      await assert.rejects(
        metaTrain({ ...common, innerLr: 0.02, modelDir: cut, resume: true }),
        /meta-trained with --inner-lr 0\.01, not 0\.02/,
      );
      await assert.rejects(
        metaTrain({ ...common, epochs: 4, modelDir: cut, resume: true }),
        /meta-trained with --epochs 3, not 4/,
      );
      await assert.rejects(
        metaTrain({ ...common, algorithm: 'fomaml', modelDir: cut, resume: true }),
        /meta-trained with --algorithm reptile, not fomaml/,
      );
      await assert.rejects(
        metaTrain({ ...common, datasets: [...dirs].reverse(), modelDir: cut, resume: true }),
        /meta-trained on .*: resume it with the same datasets in the same order/,
      );
      await assert.rejects(
        metaTrain({ ...common, modelDir: path.join(root, 'empty'), resume: true }),
        /nothing to resume/,
      );
    } else {
      // killed after the epoch's log line and before its checkpoint: the line is dropped on resume
      const line = readFileSync(path.join(fold(cut), 'log.jsonl'), 'utf8').trim();
      appendFileSync(path.join(fold(cut), 'log.jsonl'), `${line.replace('"epoch":1', '"epoch":2')}\n`);
    }
    const lines: string[] = [];
    // only the datasets and the machine's options: every setting comes from the run
    const r = await metaTrain({
      datasets: dirs,
      modelDir: cut,
      resume: true,
      valPatches: 1,
      memoryGb: 1,
      threads: 1,
      workers: 0,
      body: tiny,
      log: (s) => lines.push(s),
    });
    assert.ok(
      lines.some((l) => /resumed from .* at epoch 1\/3/.test(l)),
      lines.join('\n'),
    );
    assert.equal(r.history.length, 3);

    const [w, c] = [logOf(whole), logOf(cut)];
    assert.deepEqual(
      c.map((e) => e.epoch),
      [1, 2, 3],
    );
    for (let e = 0; e < 3; e++) {
      assert.equal(c[e]!.train_loss, w[e]!.train_loss, `epoch ${e + 1} loss`);
      assert.deepEqual(c[e]!.val_dice, w[e]!.val_dice, `epoch ${e + 1} Dice`);
      assert.equal(c[e]!.outer_step, w[e]!.outer_step, `epoch ${e + 1} ε`);
    }
    const ck = await checkpoints(whole, cut);
    assert.ok(ck.keys.includes('rng.cpu'));
    ck.keys.forEach((k, i) => assert.deepEqual(ck.b[i], ck.a[i], `${k} differs after the resume`));
    assert.deepEqual(JSON.parse(ck.stateB!), JSON.parse(ck.stateA!));

    if (algorithm === 'reptile') {
      // control: another seed (another initialisation, task order and batches) ends elsewhere
      const other = path.join(root, 'other');
      await metaTrain({ ...common, seed: 4, modelDir: other });
      const o = await checkpoints(whole, other);
      const differ = o.keys.filter((k, i) => k !== 'rng.cpu' && o.a[i]!.some((v, j) => v !== o.b[i]![j]));
      assert.ok(differ.length > 0, 'seed 4 gives the same weights as seed 3');

      // the CLI: one line each
      const again = medseg(['meta-train', ...dirs, '-m', cut]);
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /pass --resume to continue it/);
      const none = medseg(['meta-train', ...dirs, '-m', path.join(root, 'none'), '--resume']);
      assert.notEqual(none.status, 0);
      assert.match(none.stderr, /nothing to resume/);
      assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
    }
  });
}
