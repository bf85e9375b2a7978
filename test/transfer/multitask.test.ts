// Fine-tuning from a multi-task model (a tiny 2-task model whose tasks differ in channel count:
// Hippocampus 1 MR channel through a stem, Prostate 2 channels straight into the body): the target
// starts from the task with its channel count, the stem folded into the first convolution (checked
// against a fold computed here by plain loops over the checkpoint's numbers), that task's head kept
// when the label set is the same, the other task's parts listed; an unknown --source-task lists the
// tasks; the CLI prints the table. A package of the model predicts with any task's head and starts
// fine-tuning as the folder does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { trainMulti } from '../../src/multitask/train.js';
import { readManifest } from '../../src/multitask/manifest.js';
import { loadSafetensors, saveSafetensors, type UNet } from '../../src/nn/index.js';
import { manualSeed, randn, type Tensor } from '../../src/engine/index.js';
import { finetune, type TransferRecord } from '../../src/transfer/finetune.js';
import { packageModel } from '../../src/transfer/package.js';
import { readImage } from '../../src/io/image.js';
import { medseg } from '../cli/run.js';
import { ONE_STEP, tmp } from './fixtures.js';

const tiny = (s: { features: number[] }) =>
  ({ ...s, features: s.features.map((_, i) => Math.min(4 * 2 ** i, 16)) }) as never;
const f32 = (t: Tensor) => Array.from(t.toArray() as Float32Array);
const FIRST = 'encoder.stages.0.0.convs.0.conv.weight';

/** A tiny multi-task model over Hippocampus (1 channel) and Prostate (2 channels). */
export async function tinyMultiTask(root: string): Promise<{ model: string; datasets: string[] }> {
  const a = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 4 });
  const b = await writeSynthDataset(findTask('prostate'), root, { seed: 2, size: 'tiny', cases: 4 });
  const model = path.join(root, 'multi');
  await trainMulti({
    datasets: [a.dir, b.dir],
    modelDir: model,
    epochs: 1,
    itersPerEpoch: 2,
    valPatches: 1,
    memoryGb: 1,
    threads: 1,
    workers: 0,
    body: tiny,
  });
  return { model, datasets: [a.dir, b.dir] };
}

/** W'[f, c, k] = Σ_C W[f, C, k] · S[C, c], by loops over flat arrays. */
function foldByHand(w: Tensor, s: Tensor): number[] {
  const [F, C, ...k] = w.shape as number[];
  const c = s.shape[1]!;
  const per = k.reduce((a, b) => a * b, 1);
  const W = f32(w);
  const S = f32(s); // [C, c, 1, 1, 1]
  const out = new Array<number>(F! * c * per).fill(0);
  for (let f = 0; f < F!; f++)
    for (let j = 0; j < c; j++)
      for (let q = 0; q < per; q++) {
        let acc = 0;
        for (let i = 0; i < C!; i++) acc += W[(f * C! + i) * per + q]! * S[i * c + j]!;
        out[(f * c + j) * per + q] = acc;
      }
  return out;
}

test('finetune --from a multi-task model: the task view with its stem folded, its head, the table', async () => {
  const root = tmp('ft-multi');
  const { model } = await tinyMultiTask(root);
  const m = await readManifest(model);
  const [A, B] = m.tasks.map((t) => t.name) as [string, string];
  assert.equal(m.tasks[0]!.stem, `stems.${A}.weight`); // Hippocampus goes through a stem
  assert.equal(m.tasks[1]!.stem, null);
  const ckpt = path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors');
  {
    // a stem far from its identity start, so that the fold is not just the body's first channel
    const { tensors: all, metadata } = await loadSafetensors(ckpt);
    manualSeed(9);
    all.get(`stems.${A}.weight`)!.dispose();
    all.set(`stems.${A}.weight`, randn([2, 1, 1, 1, 1]));
    await saveSafetensors(ckpt, all, metadata);
    for (const t of all.values()) t.dispose();
  }
  const { tensors } = await loadSafetensors(ckpt);
  const src = (k: string) => f32(tensors.get(k)!);

  // 1. a 1-channel target with another label set (Spleen): task A's view, its stem folded
  const spleen = await writeSynthDataset(findTask('spleen'), path.join(root, 't1'), {
    seed: 3,
    size: 'tiny',
    cases: 4,
  });
  let start = new Map<string, number[]>();
  const capture = (net: UNet) => {
    start = new Map(net.namedParameters().map(([n, p]) => [n, f32(p)]));
  };
  const lines: string[] = [];
  const out1 = path.join(root, 'ft-spleen');
  await finetune({
    dataset: spleen.dir,
    from: model,
    modelDir: out1,
    ...ONE_STEP,
    initialize: capture,
    log: (s) => lines.push(s),
  });
  const rec1 = JSON.parse(readFileSync(path.join(out1, 'transfer.json'), 'utf8')) as TransferRecord;
  assert.equal(rec1.source.task, A);
  assert.equal(rec1.source.kind, 'multitask');
  const fate1 = new Map(rec1.weights!.map((w) => [w.name, w]));
  assert.equal(fate1.get(FIRST)!.fate, 'loaded');
  assert.deepEqual(fate1.get(FIRST)!.source, [4, 1, 3, 3, 3]);
  assert.match(fate1.get(FIRST)!.why, new RegExp(`stems\\.${A}\\.weight folded in`));
  assert.equal(fate1.get(`stems.${A}.weight`)!.fate, 'folded');
  assert.equal(fate1.get(`heads.${B}.seg_layers.0.weight`)!.fate, 'skipped');
  assert.equal(fate1.get('decoder.seg_layers.0.weight')!.fate, 're-initialised'); // labels differ
  assert.equal(fate1.get('encoder.stages.1.0.convs.0.conv.weight')!.fate, 'loaded');
  // the numbers: the folded first convolution and the shared body, as the run started
  const folded = foldByHand(tensors.get(FIRST)!, tensors.get(`stems.${A}.weight`)!);
  const got = start.get(FIRST)!;
  assert.equal(got.length, folded.length);
  const maxDiff = Math.max(...got.map((v, i) => Math.abs(v - folded[i]!)));
  assert.ok(maxDiff < 1e-6, `folded first conv differs by ${maxDiff}`);
  assert.deepEqual(
    start.get('decoder.stages.0.convs.0.conv.weight'),
    src('decoder.stages.0.convs.0.conv.weight'),
  );
  // the table was printed, with every fate counted
  const table = lines.find((l) => l.startsWith('weights by name and shape'))!;
  assert.ok(table, lines.join('\n'));
  assert.match(table, /folded +stems\./);
  assert.match(table, /\d+ loaded, 0 adapted, \d+ re-initialised, \d+ skipped, 1 folded/);
  assert.ok(lines.some((l) => l.includes(`source: task ${A} of the multi-task model`)));

  // 2. a 2-channel target with the same labels as task B: B's view, B's head kept, no stem
  const prostate = await writeSynthDataset(findTask('prostate'), path.join(root, 't2'), {
    seed: 4,
    size: 'tiny',
    cases: 4,
  });
  const out2 = path.join(root, 'ft-prostate');
  await finetune({
    dataset: prostate.dir,
    from: model,
    modelDir: out2,
    ...ONE_STEP,
    initialize: capture,
  });
  const rec2 = JSON.parse(readFileSync(path.join(out2, 'transfer.json'), 'utf8')) as TransferRecord;
  assert.equal(rec2.source.task, B);
  const fate2 = new Map(rec2.weights!.map((w) => [w.name, w.fate]));
  assert.equal(fate2.get('decoder.seg_layers.0.weight'), 'loaded');
  assert.equal(fate2.get(`stems.${A}.weight`), 'skipped');
  assert.deepEqual(start.get('decoder.seg_layers.0.weight'), src(`heads.${B}.seg_layers.0.weight`));
  assert.deepEqual(start.get(FIRST), src(FIRST));
  for (const t of tensors.values()) t.dispose();

  // 3. an unknown --source-task: one line with the model's tasks
  await assert.rejects(
    finetune({
      dataset: spleen.dir,
      from: model,
      modelDir: path.join(root, 'ft-bad'),
      sourceTask: 'Liver',
      epochs: 1,
      itersPerEpoch: 1,
    }),
    new RegExp(`unknown task 'Liver': .* has ${A}, ${B}`),
  );

  // 4. the CLI, naming the task (B's view into a 1-channel target: its first conv adapted 2 → 1)
  const cli = medseg([
    'finetune',
    spleen.dir,
    '--from',
    model,
    '--source-task',
    B,
    '-m',
    path.join(root, 'ft-cli'),
    '--epochs',
    '1',
    '--iters-per-epoch',
    '1',
    '--threads',
    '1',
    '--memory-gb',
    '1',
    '--no-validation',
  ]);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stderr, /weights by name and shape/);
  assert.match(cli.stderr, new RegExp(`adapted +${FIRST.replace(/\./g, '\\.')} .*2 → 1 input channels`));
  assert.match(cli.stderr, new RegExp(`skipped +stems\\.${A}\\.weight`));
});

test('a multi-task model package: predict --task from the file alone, unknown task lists the tasks, finetune --from it', async () => {
  const root = tmp('pkg-multi');
  const { model, datasets } = await tinyMultiTask(root);
  const m = await readManifest(model);
  const [A, B] = m.tasks.map((t) => t.name) as [string, string];
  const pkg = path.join(root, 'multi.medseg');
  const manifest = await packageModel({ modelDir: model, output: pkg });
  assert.deepEqual(manifest.tasks, [A, B]);
  for (const t of [A, B])
    for (const f of ['plans.json', 'fingerprint.json', '3d_fullres/fold_0/checkpoint_latest.safetensors'])
      assert.ok(
        manifest.members.some((x) => x.name === `tasks/${t}/${f}`),
        `tasks/${t}/${f} is packaged`,
      );
  const cache = tmp('cache');
  const prev = process.env.MEDSEG_CACHE;
  process.env.MEDSEG_CACHE = cache;
  try {
    // each task predicts from the package, and gives what it gives from the folder
    for (const [i, t] of [A, B].entries()) {
      const args = (m: string, out: string) => [
        'predict',
        '-i',
        path.join(datasets[i]!, 'imagesTr'),
        '-o',
        out,
        '-m',
        m,
        '--task',
        t,
        '--threads',
        '1',
      ];
      const fromPkg = medseg(args(pkg, path.join(root, `pkg-${t}`)));
      assert.equal(fromPkg.status, 0, fromPkg.stderr);
      const fromDir = medseg(args(model, path.join(root, `dir-${t}`)));
      assert.equal(fromDir.status, 0, fromDir.stderr);
      const files = readdirSync(path.join(root, `dir-${t}`)).filter((f) => f.endsWith('.nii.gz'));
      assert.equal(files.length, 4);
      for (const f of files) {
        const [a, b] = await Promise.all([
          readImage(path.join(root, `pkg-${t}`, f)),
          readImage(path.join(root, `dir-${t}`, f)),
        ]);
        assert.deepEqual(a.data, b.data, `${t} ${f}`);
      }
    }
    const bad = medseg([
      'predict',
      '-i',
      path.join(datasets[0]!, 'imagesTr'),
      '-o',
      path.join(root, 'bad'),
      '-m',
      pkg,
      '--task',
      'Liver',
    ]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, new RegExp(`unknown task 'Liver': .*multi\\.medseg has ${A}, ${B}`));
    assert.ok(!existsSync(path.join(root, 'bad')));
  } finally {
    if (prev === undefined) delete process.env.MEDSEG_CACHE;
    else process.env.MEDSEG_CACHE = prev;
  }
  // fine-tuning from the package starts from the task view as from the folder
  const spleen = await writeSynthDataset(findTask('spleen'), path.join(root, 't'), {
    seed: 3,
    size: 'tiny',
    cases: 4,
  });
  const out = path.join(root, 'ft');
  await finetune({
    dataset: spleen.dir,
    from: pkg,
    modelDir: out,
    ...ONE_STEP,
    cache,
  });
  const rec = JSON.parse(readFileSync(path.join(out, 'transfer.json'), 'utf8')) as TransferRecord;
  assert.equal(rec.source.task, A);
  assert.equal(rec.weights!.find((w) => w.name === FIRST)!.fate, 'loaded');
  assert.equal(rec.weights!.find((w) => w.name === `stems.${A}.weight`)!.fate, 'folded');
});
