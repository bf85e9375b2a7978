// Multi-task training on two tiny synthetic tasks with different channel counts (Hippocampus: 1 MR
// channel, Prostate: 2): it runs, the body is one set of tensors, heads and stems are per task, every
// task's UNet view is an ordinary model that predict reads (--task), and an unknown task is refused
// with the list of tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { trainMulti } from '../../src/multitask/train.js';
import { MultiTaskNet, taskView, forwardTaskFull } from '../../src/multitask/network.js';
import { readManifest } from '../../src/multitask/manifest.js';
import { taskModelDir } from '../../src/multitask/view.js';
import { UNet, loadCheckpoint, loadSafetensors } from '../../src/nn/index.js';
import { readPlans } from '../../src/plan/schema.js';
import { manualSeed, randn, tidy, noGrad } from '../../src/engine/index.js';
import { predict } from '../../src/infer/predict.js';
import { medseg } from '../cli/run.js';
import { writeReport } from '../../src/report/report.js';

const tiny = (s: { features: number[] }) =>
  ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }) as never;

async function twoTasks(root: string) {
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  return [a.dir, b.dir];
}

test('train-multi: one body, per-task heads and stems, task views predict; unknown task lists the tasks', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-multi-'));
  const datasets = await twoTasks(root);
  const model = path.join(root, 'multi');
  const r = await trainMulti({
    datasets,
    modelDir: model,
    epochs: 2,
    itersPerEpoch: 3,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    body: tiny,
  });
  const m = await readManifest(model);
  const [A, B] = m.tasks.map((t) => t.name) as [string, string];
  assert.equal(m.tasks.length, 2);
  assert.deepEqual(
    m.tasks.map((t) => t.channels.length),
    [1, 2],
  );
  assert.equal(m.bodyChannels, 2);
  assert.equal(m.primary, B); // the first task with the body's channel count
  assert.equal(m.tasks[0]!.stem, `stems.${A}.weight`);
  assert.equal(m.tasks[1]!.stem, null);
  // per-task loss and Dice in every log line, summing to the epoch's steps
  const lines = readFileSync(path.join(model, '3d_fullres/fold_0/log.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  for (const l of lines.map(
    (x) => JSON.parse(x) as { tasks: Record<string, { steps: number; dice: number[] }> },
  )) {
    assert.equal(l.tasks[A]!.steps + l.tasks[B]!.steps, 3);
    assert.equal(l.tasks[A]!.dice.length, m.tasks[0]!.labelValues.length - 1);
    assert.equal(l.tasks[B]!.dice.length, m.tasks[1]!.labelValues.length - 1);
  }
  assert.equal(r.history.length, 2);
  // the checkpoint: one body under UNet's names, heads and stems under their own
  const { tensors } = await loadSafetensors(
    path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'),
  );
  const names = [...tensors.keys()];
  assert.ok(names.some((k) => k.startsWith('encoder.stages.0.')));
  assert.ok(names.some((k) => k.startsWith(`heads.${A}.seg_layers.0.`)));
  assert.ok(names.some((k) => k.startsWith(`heads.${B}.seg_layers.0.`)));
  assert.ok(names.includes(`stems.${A}.weight`));
  assert.ok(!names.some((k) => k.startsWith('heads.') && k.includes('encoder')));
  const headA = tensors.get(`heads.${A}.seg_layers.0.weight`)!;
  const headB = tensors.get(`heads.${B}.seg_layers.0.weight`)!;
  assert.equal(headA.shape[0], m.tasks[0]!.labelValues.length);
  assert.equal(headB.shape[0], m.tasks[1]!.labelValues.length);
  // the primary head is stored again as decoder.seg_layers: the file is a UNet checkpoint of B
  assert.deepEqual(
    Array.from(tensors.get('decoder.seg_layers.0.weight')!.toArray() as Float32Array),
    Array.from(headB.toArray() as Float32Array),
  );
  for (const t of tensors.values()) t.dispose();
  const top = await readPlans(path.join(model, 'plans.json'));
  const unet = new UNet({ ...top.configurations['3d_fullres']!.network, deepSupervision: false });
  await loadCheckpoint(path.join(model, '3d_fullres/fold_0/checkpoint_best.safetensors'), unet);
  unet.dispose();

  // the body is shared: one tensor object serves both tasks; each view holds that body's values
  const plansA = await readPlans(path.join(model, 'tasks', A, 'plans.json'));
  const body = { ...plansA.configurations['3d_fullres']!.network, inputChannels: 2 };
  const shapes = m.tasks.map((t) => ({
    name: t.name,
    channels: t.channels.length,
    classes: t.labelValues.length,
    head: t.name,
  }));
  const net = new MultiTaskNet(body, shapes, B);
  await loadCheckpoint(path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'), net);
  const params = net.namedParameters();
  const bodyNames = params.filter(([k]) => k.startsWith('encoder.') || k.startsWith('decoder.'));
  assert.ok(bodyNames.length > 0);
  assert.equal(new Set(params.map(([, t]) => t)).size, params.length, 'no parameter is held twice');
  // the view of A (stem folded into the first conv) computes what the multi-task network computes
  net.eval();
  manualSeed(5);
  const patch = plansA.configurations['3d_fullres']!.patch;
  const x = randn([1, 1, ...patch]);
  const viewA = taskView(net, A);
  viewA.eval();
  const diff = tidy(() => noGrad(() => forwardTaskFull(net, A, x).sub(viewA.forward(x)).abs().amax().item()));
  assert.ok(diff < 1e-4, `view of ${A} differs by ${diff}`);
  // and equals the written view checkpoint (latest)
  const written = new UNet({ ...plansA.configurations['3d_fullres']!.network, deepSupervision: false });
  await loadCheckpoint(
    path.join(model, 'tasks', A, '3d_fullres/fold_0/checkpoint_latest.safetensors'),
    written,
  );
  written.eval();
  const diff2 = tidy(() => noGrad(() => written.forward(x).sub(viewA.forward(x)).abs().amax().item()));
  assert.equal(diff2, 0);
  for (const n of [viewA, written, net]) n.dispose();
  x.dispose();

  // the report shows each task's row (channels, classes, cases, steps, Dice)
  const html = readFileSync(await writeReport(model), 'utf8');
  assert.match(html, /<h2>Tasks \(multi-task model/);
  for (const t of [A, B]) assert.match(html, new RegExp(`<td style="text-align:left">${t}</td>`));

  // predict with each task's head through the ordinary path
  for (const [i, t] of [A, B].entries()) {
    const out = path.join(root, `pred-${t}`);
    const img = path.join(datasets[i]!, 'imagesTr');
    const res = await predict({
      input: img,
      output: out,
      modelDir: await taskModelDir(model, t),
      threads: 1,
    });
    assert.equal(res.cases.length, 4);
    assert.equal(readdirSync(out).filter((f) => f.endsWith('.nii.gz')).length, 4);
  }
  // unknown task: one line listing the model's tasks (library and CLI)
  await assert.rejects(taskModelDir(model, 'Liver'), new RegExp(`unknown task 'Liver': .* has ${A}, ${B}`));
  const cli = medseg([
    'predict',
    '-i',
    path.join(datasets[0]!, 'imagesTr'),
    '-o',
    path.join(root, 'x'),
    '-m',
    model,
    '--task',
    'Liver',
  ]);
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, new RegExp(`unknown task 'Liver': .* has ${A}, ${B}`));
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.ok(!existsSync(path.join(root, 'x')));
  const ok = medseg([
    'predict',
    '-i',
    path.join(datasets[1]!, 'imagesTr'),
    '-o',
    path.join(root, 'cli'),
    '-m',
    model,
    '--task',
    B,
    '--threads',
    '1',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
});
