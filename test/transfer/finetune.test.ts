// Fine-tuning: the weight table (loaded / adapted / expanded / re-initialised / skipped), the adapted first
// convolution's defining property, plans that keep the source's network and take the target's data,
// freezing that really holds weights fixed (and unfreeze-after that releases them), the CLI from a
// package, and bad sources refused with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, Tensor } from '../../src/engine/index.js';
import { UNet, loadSafetensors, type UNetSpec } from '../../src/nn/index.js';
import { planDataset, type Plans } from '../../src/plan/planner.js';
import type { Fingerprint } from '../../src/plan/fingerprint.js';
import { finetune, FINETUNE_LR, type TransferRecord } from '../../src/transfer/finetune.js';
import { loadTransferred, firstConvName } from '../../src/transfer/weights.js';
import { packageModel } from '../../src/transfer/package.js';
import { sourceProblem } from '../../src/transfer/plans.js';
import { command as finetuneCommand } from '../../src/cli/finetune.js';
import { ONE_STEP, synthDataset, tinyModel, tinyPlans, tmp } from './fixtures.js';
import { trainModel } from '../../src/train/index.js';

const spec = (inputChannels: number, numClasses: number): UNetSpec => ({
  architecture: 'plain',
  dims: 3,
  inputChannels,
  numClasses,
  features: [4, 8, 16],
  kernelSizes: [
    [3, 3, 3],
    [3, 3, 3],
    [3, 3, 3],
  ],
  strides: [
    [1, 1, 1],
    [2, 2, 2],
    [2, 2, 2],
  ],
  encoderBlocks: [2, 2, 2],
  decoderConvs: [2, 2],
  deepSupervision: true,
});

const values = (t: Tensor) => Array.from(t.toArray() as Float32Array);
const snapshot = (net: UNet) => new Map(net.namedParameters().map(([n, p]) => [n, values(p)]));

test('weights by name and shape: loaded, adapted first conv, new heads, skipped extras, refused misfits', () => {
  manualSeed(1);
  const src = new UNet(spec(1, 3));
  const weights = new Map(src.stateDict());
  const extra = Tensor.fromArray(new Float32Array(6), [2, 3]);
  weights.set('task_heads.heart.weight', extra); // a multi-task model's own head
  weights.delete('decoder.stages.1.convs.1.norm.bias');
  const dst = new UNet(spec(4, 2));
  const freshHead = values(dst.stateDict().get('decoder.seg_layers.1.weight')!);
  const rows = loadTransferred(dst, weights, { newLabels: true, sourceName: 'src' });
  const fate = (n: string) => rows.find((r) => r.name === n)!;
  const first = firstConvName(dst);
  assert.equal(first, 'encoder.stages.0.0.convs.0.conv.weight');
  assert.equal(fate(first).fate, 'adapted');
  assert.deepEqual(
    [fate(first).source, fate(first).target],
    [
      [4, 1, 3, 3, 3],
      [4, 4, 3, 3, 3],
    ],
  );
  for (const r of rows.filter((x) => x.name.startsWith('decoder.seg_layers.')))
    assert.equal(r.fate, 're-initialised', r.name);
  assert.deepEqual(values(dst.stateDict().get('decoder.seg_layers.1.weight')!), freshHead);
  assert.deepEqual(fate('decoder.stages.1.convs.1.norm.bias'), {
    name: 'decoder.stages.1.convs.1.norm.bias',
    fate: 're-initialised',
    source: null,
    target: [4],
    why: 'not in the source',
  });
  assert.deepEqual(fate('task_heads.heart.weight'), {
    name: 'task_heads.heart.weight',
    fate: 'skipped',
    source: [2, 3],
    target: null,
    why: 'not in the target network',
  });
  const loaded = rows.filter((r) => r.fate === 'loaded');
  // 2 decoder stages: 2 heads of weight and bias re-initialised, 1 adapted, 1 missing
  assert.equal(loaded.length, dst.stateDict().size - 4 - 1 - 1);
  for (const r of loaded)
    assert.deepEqual(values(dst.stateDict().get(r.name)!), values(weights.get(r.name)!), r.name);
  // the adapted conv: every new channel the same filter, and the sum over new channels equals the
  // sum over the source's (an image whose channels all carry x gives the source's response to x)
  const w = values(dst.stateDict().get(first)!);
  const s = values(src.stateDict().get(first)!);
  const per = 27;
  for (let o = 0; o < 4; o++)
    for (let j = 0; j < per; j++) {
      const news = [0, 1, 2, 3].map((c) => w[(o * 4 + c) * per + j]!);
      assert.ok(news.every((v) => v === news[0]));
      assert.ok(Math.abs(news.reduce((a, b) => a + b, 0) - s[o * per + j]!) < 1e-6);
    }
  // the same label set: heads of equal shape load
  const same = new UNet(spec(1, 3));
  const rows2 = loadTransferred(same, new Map(src.stateDict()), { newLabels: false, sourceName: 'src' });
  assert.ok(rows2.every((r) => r.fate === 'loaded'));
  // a body tensor of another shape means the checkpoint is not its plans' network: refused
  const wide = new UNet({ ...spec(1, 3), features: [4, 8, 24] });
  assert.throws(
    () => loadTransferred(wide, new Map(src.stateDict()), { newLabels: false, sourceName: 'SRC' }),
    /^Error: SRC: encoder\.stages\.2\.0\.convs\.0\.conv\.weight has shape \[16,8,3,3,3\] but the network its plans\.json describes needs \[24,8,3,3,3\]/,
  );
  // the residual encoder's first convolution is its stem's; it adapts the same way
  const resSrc = new UNet({ ...spec(1, 3), architecture: 'residual' });
  const resDst = new UNet({ ...spec(2, 3), architecture: 'residual' });
  assert.equal(firstConvName(resDst), 'encoder.stem.convs.0.conv.weight');
  const resRows = loadTransferred(resDst, new Map(resSrc.stateDict()), { newLabels: false, sourceName: 'r' });
  assert.deepEqual(
    resRows.filter((r) => r.fate !== 'loaded').map((r) => [r.name, r.fate]),
    [['encoder.stem.convs.0.conv.weight', 'adapted']],
  );
  for (const n of [src, dst, same, wide, resSrc, resDst]) n.dispose();
  extra.dispose();
});

test('finetune into another label set and channel count: plans, table, frozen encoder bit for bit', async () => {
  const { model } = await tinyModel('hippocampus');
  const source = await loadSafetensors(path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
  const srcPlans = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
  const ds = await synthDataset('brain-tumour');
  const out = path.join(tmp('ft'), 'bt');
  let atStart: Map<string, number[]> | null = null;
  const frozenFlags: boolean[] = [];
  const { results, record } = await finetune({
    dataset: ds,
    modelDir: out,
    from: model,
    epochs: 2,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    validate: false,
    freeze: 'encoder',
    beforeEpoch: (epoch, net) => {
      if (epoch === 0) atStart = snapshot(net);
      frozenFlags.push(
        net.namedParameters().find(([n]) => n === 'encoder.stages.1.0.convs.0.conv.weight')![1].requiresGrad,
      );
    },
  });
  assert.deepEqual(frozenFlags, [false, false]);
  // plans: the source's network and patch, the target's spacing, normalisation, channels, labels
  const plans = JSON.parse(readFileSync(path.join(out, 'plans.json'), 'utf8')) as Plans;
  const fp = JSON.parse(readFileSync(path.join(out, 'fingerprint.json'), 'utf8')) as Fingerprint;
  const own = planDataset(fp, { memoryGb: 1 }).configurations['3d_fullres']!;
  const c = plans.configurations['3d_fullres']!;
  const s = srcPlans.configurations['3d_fullres']!;
  assert.deepEqual(Object.keys(plans.configurations), ['3d_fullres']);
  // brain tumour trains on its 3 nested regions (sigmoid outputs), not 4 classes
  assert.deepEqual(c.network, { ...s.network, inputChannels: 4, numClasses: 3 });
  assert.deepEqual(c.patch, s.patch);
  assert.deepEqual([c.spacing, c.normalization], [own.spacing, own.normalization]);
  assert.deepEqual(plans.labelValues, [0, 1, 2, 3]);
  assert.notDeepEqual(c.spacing, s.spacing);
  // the table, as recorded
  const rec = JSON.parse(readFileSync(path.join(out, 'transfer.json'), 'utf8')) as TransferRecord;
  assert.deepEqual(rec.weights, record.weights);
  assert.equal(rec.initialLr, FINETUNE_LR.sgd);
  assert.equal(rec.warmupSteps, 1); // a tenth of 2 × 2 steps, rounded up
  const rows = rec.weights!;
  const by = (f: string) => rows.filter((r) => r.fate === f).map((r) => r.name);
  assert.deepEqual(by('adapted'), ['encoder.stages.0.0.convs.0.conv.weight']);
  assert.deepEqual(
    by('re-initialised').sort(),
    [0, 1, 2].flatMap((i) => [`decoder.seg_layers.${i}.bias`, `decoder.seg_layers.${i}.weight`]).sort(),
  );
  assert.deepEqual(by('skipped'), []);
  const sourceWeights = [...source.tensors.keys()].filter(
    (k) => !k.startsWith('optimizer.') && !k.startsWith('rng.'),
  );
  assert.equal(by('loaded').length, sourceWeights.length - 7);
  // at epoch 0 every loaded tensor is the source's; after training the frozen encoder still is,
  // while the decoder and the new heads moved
  const end = await loadSafetensors(path.join(results[0]!.foldDir, 'checkpoint_latest.safetensors'));
  let frozenChecked = 0;
  for (const n of by('loaded')) {
    const src = values(source.tensors.get(n)!);
    assert.deepEqual(atStart!.get(n), src, `${n} at epoch 0`);
    if (n.startsWith('encoder.')) {
      assert.deepEqual(values(end.tensors.get(n)!), src, `${n} frozen`);
      frozenChecked++;
    }
  }
  assert.ok(frozenChecked > 20);
  for (const n of [
    'decoder.stages.0.convs.0.conv.weight',
    'decoder.transpconvs.1.weight',
    'decoder.seg_layers.2.weight',
    'encoder.stages.0.0.convs.0.conv.weight',
  ])
    assert.notDeepEqual(values(end.tensors.get(n)!), atStart!.get(n), `${n} should have trained`);

  // resumed for one more epoch without naming --freeze: the recorded settings hold, still frozen
  await finetune({
    dataset: ds,
    modelDir: out,
    from: model,
    epochs: 3,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    validate: false,
    resume: true,
  });
  const resumed = await loadSafetensors(path.join(results[0]!.foldDir, 'checkpoint_latest.safetensors'));
  assert.equal(JSON.parse(resumed.metadata.state!).epoch, 3);
  for (const n of by('loaded').filter((x) => x.startsWith('encoder.')))
    assert.deepEqual(
      values(resumed.tensors.get(n)!),
      values(source.tensors.get(n)!),
      `${n} frozen after resume`,
    );
  assert.notDeepEqual(
    values(resumed.tensors.get('decoder.stages.0.convs.0.conv.weight')!),
    values(end.tensors.get('decoder.stages.0.convs.0.conv.weight')!),
  );

  // the same folder again: refused (a run is there); another source into it: refused
  await assert.rejects(
    finetune({ dataset: ds, modelDir: out, from: model, epochs: 1, itersPerEpoch: 1, memoryGb: 1 }),
    /already holds a training run/,
  );
  const other = await tinyModel('hippocampus', '3d_fullres', { epochs: 2 });
  await assert.rejects(
    finetune({ dataset: ds, modelDir: out, from: other.model, epochs: 1, memoryGb: 1 }),
    /was fine-tuned from another source/,
  );
});

test('unfreeze-after releases the frozen weights; the CLI fine-tunes from a package', async () => {
  const { model } = await tinyModel('hippocampus');
  const pkg = path.join(tmp('pkg'), 'hippo.medseg');
  await packageModel({ modelDir: model, output: pkg });
  const source = await loadSafetensors(path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
  const ds = await synthDataset('hippocampus', 4, 7); // the same task, other cases: heads load too
  const out = path.join(tmp('ft'), 'h2');
  const seen: Map<string, number[]>[] = [];
  const { results, record } = await finetune({
    dataset: ds,
    modelDir: out,
    from: pkg,
    cache: tmp('cache'),
    epochs: 2,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    validate: false,
    freeze: 'all-but-heads',
    unfreezeAfter: 1,
    beforeEpoch: (_, net) => seen.push(snapshot(net)),
  });
  const rows = record.weights!;
  assert.ok(
    rows.every((r) => r.fate === 'loaded'),
    'same channels and labels: everything loads',
  );
  const end = await loadSafetensors(path.join(results[0]!.foldDir, 'checkpoint_latest.safetensors'));
  const body = rows.map((r) => r.name).filter((n) => !n.startsWith('decoder.seg_layers.'));
  const head = 'decoder.seg_layers.2.weight';
  // after epoch 1 (frozen): the body is the source's, the heads trained
  for (const n of body) assert.deepEqual(seen[1]!.get(n), values(source.tensors.get(n)!), n);
  assert.notDeepEqual(seen[1]!.get(head), values(source.tensors.get(head)!));
  // after epoch 2 (unfrozen): the body trained too
  const moved = body.filter((n) => values(end.tensors.get(n)!).some((v, i) => v !== seen[1]!.get(n)![i]));
  assert.ok(moved.length > body.length / 2, `${moved.length} of ${body.length} body tensors moved`);

  // the CLI: train's options plus finetune's, from the package
  const cliOut = path.join(tmp('cli'), 'm');
  const prev = process.env.MEDSEG_CACHE;
  process.env.MEDSEG_CACHE = tmp('cache2');
  try {
    const args = [
      ds,
      '--from',
      pkg,
      '-m',
      cliOut,
      '--epochs',
      '1',
      '--iters-per-epoch',
      '1',
      '--memory-gb',
      '1',
    ];
    assert.equal(
      await finetuneCommand.run([
        ...args,
        '--no-validation',
        '--threads',
        '1',
        '--lr',
        '0.005',
        '--warmup',
        '0',
      ]),
      0,
    );
    const rec = JSON.parse(readFileSync(path.join(cliOut, 'transfer.json'), 'utf8')) as TransferRecord;
    assert.deepEqual([rec.initialLr, rec.warmupSteps, rec.source.model], [0.005, 0, pkg]);
    assert.ok(existsSync(path.join(cliOut, '3d_fullres/fold_0/checkpoint_best.safetensors')));
    await assert.rejects(
      finetuneCommand.run([...args, '--freeze', 'decoder']),
      /--freeze must be encoder or all-but-heads, got 'decoder'/,
    );
    await assert.rejects(
      finetuneCommand.run([...args, '--unfreeze-after', '2']),
      /--unfreeze-after needs --freeze/,
    );
  } finally {
    if (prev === undefined) delete process.env.MEDSEG_CACHE;
    else process.env.MEDSEG_CACHE = prev;
  }
});

test('bad sources: 2D into 3D, an unknown architecture, a folder planned by someone else', async () => {
  const { ds, model } = await tinyModel('hippocampus', '2d');
  const target = await synthDataset('heart');
  const go = (from: string, modelDir = path.join(tmp('bad'), 'm')) =>
    finetune({ dataset: target, modelDir, from, epochs: 1, itersPerEpoch: 1, memoryGb: 1 });
  await assert.rejects(go(model), (e: Error) => {
    assert.match(
      e.message,
      /\(2d\) is a 2D network and cannot start the 3D configuration 3d_fullres: fine-tune --config 2d, or start from a 3D model$/,
    );
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  const odd = path.join(tmp('odd'), 'odd');
  cpSync(model, odd, { recursive: true });
  const plans = JSON.parse(readFileSync(path.join(odd, 'plans.json'), 'utf8')) as Plans;
  (plans.configurations['2d']!.network as { architecture: string }).architecture = 'transformer';
  writeFileSync(path.join(odd, 'plans.json'), JSON.stringify(plans));
  await assert.rejects(
    finetune({
      dataset: target,
      modelDir: path.join(tmp('bad'), 'm'),
      from: odd,
      config: '2d',
      epochs: 1,
      memoryGb: 1,
    }),
    /odd\/plans\.json: configurations\.2d\.network\.architecture: expected "plain" or "residual", got "transformer"$/,
  );
  // the same check on plans held in memory (a multi-task or meta-learned model's own plans)
  const net2d = plans.configurations['2d']!;
  assert.equal(
    sourceProblem(net2d, 'M (2d)', '2d', 2),
    "M (2d): unknown architecture 'transformer' (medseg builds plain, residual)",
  );
  // a model folder whose plans.json the user made with `medseg plan` is not overwritten
  const planned = path.join(tmp('planned'), 'm');
  cpSync(path.join(model), planned, { recursive: true });
  await assert.rejects(
    finetune({ dataset: ds, modelDir: planned, from: model, config: '2d', epochs: 1, memoryGb: 1 }),
    /plans\.json exists and was not written by finetune/,
  );
});

test('a binary head starts a target of more classes expanded: background row, the foreground row for each class, bias − ln(K − 1)', async () => {
  manualSeed(3);
  const K = 5;
  const src = new UNet(spec(1, 2));
  const dst = new UNet(spec(1, K));
  const rows = loadTransferred(dst, new Map(src.stateDict()), {
    newLabels: true,
    sourceName: 'src',
    expandBinaryHeads: true,
  });
  const heads = rows.filter((r) => r.name.startsWith('decoder.seg_layers.'));
  assert.equal(heads.length, 4);
  assert.ok(
    heads.every((r) => r.fate === 'expanded'),
    JSON.stringify(heads),
  );
  assert.ok(rows.filter((r) => !r.name.startsWith('decoder.seg_layers.')).every((r) => r.fate === 'loaded'));
  for (const level of [0, 1]) {
    const sw = values(src.stateDict().get(`decoder.seg_layers.${level}.weight`)!);
    const sb = values(src.stateDict().get(`decoder.seg_layers.${level}.bias`)!);
    const dw = values(dst.stateDict().get(`decoder.seg_layers.${level}.weight`)!);
    const db = values(dst.stateDict().get(`decoder.seg_layers.${level}.bias`)!);
    const F = sw.length / 2;
    // the defining property: for any features, the background probability is the source's and
    // each class gets an equal share of the source's foreground probability
    for (let trial = 0; trial < 5; trial++) {
      const f = Array.from({ length: F }, (_, i) => Math.sin(1.7 * i + trial) * 2);
      const logit = (w: number[], b: number[], c: number) =>
        b[c]! + f.reduce((a, x, i) => a + x * w[c * F + i]!, 0);
      const softmax = (z: number[]) => {
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / s);
      };
      const ps = softmax([0, 1].map((c) => logit(sw, sb, c)));
      const pd = softmax(Array.from({ length: K }, (_, c) => logit(dw, db, c)));
      assert.ok(Math.abs(pd[0]! - ps[0]!) < 1e-5, `level ${level}: background ${pd[0]} vs ${ps[0]}`);
      for (let c = 1; c < K; c++)
        assert.ok(Math.abs(pd[c]! - ps[1]! / (K - 1)) < 1e-5, `level ${level} class ${c}`);
    }
  }
  // without the option (or a target of two classes) the heads start fresh / load as before
  const fresh = new UNet(spec(1, K));
  const rows2 = loadTransferred(fresh, new Map(src.stateDict()), { newLabels: true, sourceName: 'src' });
  assert.ok(
    rows2.filter((r) => r.name.startsWith('decoder.seg_layers.')).every((r) => r.fate === 're-initialised'),
  );
  for (const n of [src, dst, fresh]) n.dispose();

  // through finetune: a binary source (spleen) into a 3-class softmax target (hippocampus)
  const { model } = await tinyModel('spleen');
  const source = await loadSafetensors(path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
  const ds = await synthDataset('hippocampus');
  let atStart: Map<string, number[]> | null = null;
  const { record } = await finetune({
    dataset: ds,
    modelDir: path.join(tmp('ft-expand'), 'hippo'),
    from: model,
    ...ONE_STEP,
    beforeEpoch: (epoch, net) => {
      if (epoch === 0) atStart = snapshot(net);
    },
  });
  const expanded = record.weights!.filter((r) => r.fate === 'expanded').map((r) => r.name);
  assert.deepEqual(
    expanded.sort(),
    [0, 1, 2].flatMap((i) => [`decoder.seg_layers.${i}.bias`, `decoder.seg_layers.${i}.weight`]).sort(),
  );
  for (const n of expanded) {
    const s = values(source.tensors.get(n)!);
    const per = s.length / 2;
    const shift = n.endsWith('.bias') ? Math.log(2) : 0;
    const want = [...s.slice(0, per), ...s.slice(per), ...s.slice(per)].map((v, i) =>
      i < per ? v : v - shift,
    );
    const got: number[] = (atStart as Map<string, number[]> | null)!.get(n)!;
    assert.equal(got.length, want.length, n);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${n}[${i}] ${v} vs ${want[i]}`));
  }

  // --fresh-heads: the same source and target, the heads start fresh (the target's own init) instead
  const freshDir = path.join(tmp('ft-fresh-heads'), 'hippo');
  const fresh2 = await finetune({
    dataset: ds,
    modelDir: freshDir,
    from: model,
    freshHeads: true,
    ...ONE_STEP,
  });
  const heads2 = fresh2.record.weights!.filter((r) => r.name.startsWith('decoder.seg_layers.'));
  assert.equal(heads2.length, 6);
  assert.ok(
    heads2.every((r) => r.fate === 're-initialised'),
    JSON.stringify(heads2),
  );
  assert.ok(fresh2.record.weights!.every((r) => r.fate !== 'expanded'));
  // the folder remembers it: another run into it may not start its heads the other way
  await assert.rejects(
    finetune({
      dataset: ds,
      modelDir: freshDir,
      from: model,
      freshHeads: false,
      ...ONE_STEP,
    }),
    /was fine-tuned with --fresh-heads/,
  );
});

test("fine-tuning from an untrained copy of the network, at scratch's learning rate without warm-up, trains as from scratch", async () => {
  // the control of the few-shot table (bench/RESULTS.md): the fine-tuning path itself (plans
  // transferred, weights loaded, its trainer) adds nothing of its own; only the start and the
  // schedule differ from training from scratch
  const ds = await synthDataset('hippocampus');
  const root = tmp('ft-control');
  const common = { dataset: ds, memoryGb: 1, threads: 1, valPatches: 1, seed: 0, validate: false } as const;
  const src = path.join(root, 'src');
  await tinyPlans(ds, src);
  // one step at a learning rate that changes nothing: a checkpoint of the network as initialised
  await trainModel({ ...common, modelDir: src, epochs: 1, itersPerEpoch: 1, initialLr: 1e-12 });
  const scratch = path.join(root, 'scratch');
  await tinyPlans(ds, scratch);
  const a = await trainModel({
    ...common,
    modelDir: scratch,
    epochs: 3,
    itersPerEpoch: 3,
    initialLr: 0.01,
    warmupSteps: 0,
  });
  const b = await finetune({
    ...common,
    modelDir: path.join(root, 'ft'),
    from: src,
    epochs: 3,
    itersPerEpoch: 3,
    initialLr: 0.01,
    warmupSteps: 0,
  });
  const la = a.history.map((h) => h.train_loss);
  const lb = b.results[0]!.history.map((h) => h.train_loss);
  assert.equal(lb.length, 3);
  la.forEach((v, i) =>
    assert.ok(Math.abs(v - lb[i]!) < 1e-5 * Math.abs(v), `epoch ${i + 1}: ${v} vs ${lb[i]}`),
  );
  // and it is not vacuous: the losses moved, and warm-up (fine-tuning's default) changes them
  assert.ok(la[2]! < la[0]!);
  const c = await finetune({
    ...common,
    modelDir: path.join(root, 'ft-warm'),
    from: src,
    epochs: 3,
    itersPerEpoch: 3,
    initialLr: 0.01,
    warmupSteps: 5,
  });
  assert.ok(Math.abs(c.results[0]!.history[0]!.train_loss - la[0]!) > 1e-4);
});
