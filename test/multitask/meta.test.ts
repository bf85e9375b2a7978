// Meta-learning: Reptile's outer update is exactly θ + ε(θ' − θ) (tensors compared element by element
// against float32 arithmetic done here), FOMAML applies the gradient taken at θ' at θ, and meta-train's
// output is an ordinary model folder: its checkpoint loads with nn's loadCheckpoint into a UNet of its
// plans (the per-task stems and the named head are extra tensors, ignored).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { manualSeed, noGrad, randn, randint, tidy } from '../../src/engine/index.js';
import { Conv, UNet, loadCheckpoint, loadSafetensors, deepSupervisionLoss } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { trainOnBatch } from '../../src/train/step.js';
import { reptileIteration, fomamlUpdate, snapshot } from '../../src/multitask/reptile.js';
import { ONE_STEP } from '../transfer/fixtures.js';
import { metaTrain } from '../../src/multitask/meta.js';
import { readManifest } from '../../src/multitask/manifest.js';
import { taskModelDir } from '../../src/multitask/view.js';
import { readPlans } from '../../src/plan/schema.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';

const f32 = (t: { toArray(): unknown }) => Array.from(t.toArray() as Float32Array);

for (const eps of [0.25, 0.3]) {
  test(`Reptile: after k real steps, θ ← θ + ε(θ' − θ) exactly (ε = ${eps})`, async () => {
    manualSeed(11);
    const net = new Conv(2, 3, { dims: 3, kernel: 3 });
    const params = net.parameters();
    const theta = params.map(f32);
    let adapted: number[][] = [];
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
    const parts = {
      forward: (x: never) => [net.forward(x)],
      loss: deepSupervisionLoss,
      opt,
      precision: null,
      lrAt: () => 0.1,
    };
    await reptileIteration(
      params,
      async () => {
        for (let s = 0; s < 3; s++) {
          const x = randn([2, 2, 4, 4, 4]);
          const y = randint(0, 3, [2, 4, 4, 4]);
          trainOnBatch(parts as never, s, { x, y });
          x.dispose();
          y.dispose();
        }
      },
      eps,
      (p) => (adapted = p.map(f32)),
    );
    const after = params.map(f32);
    const e = Math.fround(eps);
    let moved = 0;
    params.forEach((_, i) => {
      const want = theta[i]!.map((t, j) =>
        Math.fround(Math.fround(Math.fround(adapted[i]![j]! - t) * e) + t),
      );
      assert.deepEqual(after[i], want, `parameter ${i}`);
      moved += theta[i]!.filter((t, j) => t !== adapted[i]![j]).length;
    });
    assert.ok(moved > 0, 'the inner steps changed the parameters');
    opt.dispose();
    net.dispose();
  });
}

test('FOMAML: θ ← θ − β·g(θ′) from the restored θ', () => {
  manualSeed(12);
  const net = new Conv(1, 2, { dims: 3, kernel: 1 });
  const params = net.parameters();
  const before = snapshot(params);
  const theta = params.map(f32);
  noGrad(() => params.forEach((p) => p.add_(1))); // θ′ = θ + 1
  tidy(() =>
    net
      .forward(randn([1, 1, 2, 2, 2]))
      .pow(2)
      .sum()
      .backward(),
  );
  const g = params.map((p) => f32(p.grad!));
  fomamlUpdate(params, before, 0.5);
  params.forEach((p, i) => {
    const want = theta[i]!.map((t, j) => Math.fround(t - Math.fround(0.5 * g[i]![j]!)));
    assert.deepEqual(f32(p), want);
    assert.equal(p.grad, null);
  });
  for (const t of before) t.dispose();
  net.dispose();
});

test('meta-train (Reptile, 1- and 2-channel tasks): a model folder that loads into a UNet of its plans', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-meta-'));
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  const model = path.join(root, 'init');
  const r = await metaTrain({
    datasets: [a.dir, b.dir],
    modelDir: model,
    epochs: 2,
    itersPerEpoch: 2,
    innerSteps: 2,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    body: (s) => ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }),
  });
  assert.equal(r.history.length, 2);
  const m = await readManifest(model);
  assert.equal(m.kind, 'reptile');
  assert.ok(m.tasks.every((t) => t.head === 'heads.foreground.seg_layers'));
  const plans = await readPlans(path.join(model, 'plans.json'));
  assert.deepEqual(plans.labelValues, [0, 1]);
  const net = new UNet({ ...plans.configurations['3d_fullres']!.network, deepSupervision: false });
  const file = path.join(model, '3d_fullres/fold_0/checkpoint_best.safetensors');
  await loadCheckpoint(file, net);
  // the body and the shared head are what was loaded; the 1-channel task's stem is an extra tensor
  const { tensors } = await loadSafetensors(file);
  assert.ok(tensors.has(`stems.${m.tasks[0]!.name}.weight`));
  assert.deepEqual(
    f32(tensors.get('decoder.seg_layers.0.weight')!),
    f32(net.decoder.segLayers.items[0]!.weight),
  );
  assert.deepEqual(
    f32(tensors.get('heads.foreground.seg_layers.0.weight')!),
    f32(net.decoder.segLayers.items[0]!.weight),
  );
  for (const t of tensors.values()) t.dispose();
  net.dispose();
  const lines = readFileSync(path.join(model, '3d_fullres/fold_0/log.jsonl'), 'utf8').trim().split('\n');
  assert.ok(JSON.parse(lines[1]!).outer_step < JSON.parse(lines[0]!).outer_step, 'ε anneals');
  await assert.rejects(taskModelDir(model, m.tasks[0]!.name), /meta-learned initialisation .* fine-tune it/);
});

test('fine-tuning starts from a meta-learned folder and from its package', async () => {
  const { finetune } = await import('../../src/transfer/finetune.js');
  const { packageModel } = await import('../../src/transfer/package.js');
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-meta-ft-'));
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  const init = path.join(root, 'init');
  await metaTrain({
    datasets: [a.dir, b.dir],
    modelDir: init,
    epochs: 1,
    itersPerEpoch: 1,
    innerSteps: 1,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    body: (s) => ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }),
  });
  const target = await writeSynthDataset(findTask('spleen'), path.join(root, 't'), {
    seed: 3,
    size: 'tiny',
    cases: 4,
  });
  const pkg = path.join(root, 'init.medseg');
  await packageModel({ modelDir: init, output: pkg });
  for (const from of [init, pkg]) {
    const out = path.join(root, `ft-${path.basename(from)}`);
    await finetune({
      dataset: target.dir,
      from,
      modelDir: out,
      ...ONE_STEP,
      cache: path.join(root, 'cache'),
    });
    const rec = JSON.parse(readFileSync(path.join(out, 'transfer.json'), 'utf8')) as {
      weights: { name: string; fate: string }[];
    };
    const fate = new Map(rec.weights.map((w) => [w.name, w.fate]));
    assert.equal(fate.get('encoder.stages.1.0.convs.0.conv.weight'), 'loaded', 'the body is loaded');
    assert.equal(fate.get('decoder.stages.0.convs.0.conv.weight'), 'loaded');
    // the 1-channel target starts from the 1-channel task's view: its stem folded into the first
    // conv; the target is binary, so the meta-learned foreground head is kept
    assert.equal(fate.get('encoder.stages.0.0.convs.0.conv.weight'), 'loaded');
    assert.equal(fate.get('decoder.seg_layers.0.weight'), 'loaded');
    assert.equal(fate.get((await readManifest(init)).tasks[0]!.stem!), 'folded');
  }
});
