// Region-based training end to end (nnU-Net's, for nested labels): the synthetic brain-tumour task's
// dataset.json declares whole tumour ⊃ tumour core ⊃ enhancing with regions_class_order, so the plan
// gets one sigmoid output per region, training uses the region loss, validation scores each region,
// and predict writes each region's value, later regions over earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tensor, tidy } from '../../src/engine/index.js';
import { planDataset, validatePlans, type Plans, type Fingerprint } from '../../src/plan/index.js';
import { regionClassSets, outputChannels } from '../../src/plan/regions.js';
import { train } from '../../src/crossval/train.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { regionLabelValues } from '../../src/grid/volumeTensor.js';
import { diceOfRegions, dicePerLabel } from '../../src/labelmap/dice.js';
import { readOutOfFoldSummary } from '../../src/train/outOfFold.js';
import { regionLabels } from '../../src/evaluate/findBest.js';
import { datasetFromPattern } from '../../src/dataset/from-pattern.js';
import { synthDataset, tinyPlans, tmp } from '../transfer/fixtures.js';
import { medseg } from '../cli/run.js';
import { writeReport } from '../../src/report/report.js';
import { writeSingleRunRecipe } from '../../src/evaluate/singleRunRecipe.js';
import { writtenByRegions } from '../../src/labelmap/regions.js';

const fingerprint = (o: Partial<Fingerprint> = {}): Fingerprint => ({
  version: 1,
  axes: 'zyx',
  dataset: 'tumour',
  channelNames: ['FLAIR', 'T1c'],
  labels: { background: [0], 'whole tumour': [1, 2, 3, 4], 'tumour core': [1, 3, 4], enhancing: [4] },
  regionClassOrder: [2, 1, 4],
  cases: [0, 1].map((i) => ({
    id: `c${i}`,
    spacing: [1, 1, 1],
    shape: [155, 240, 240],
    croppedShape: [140, 170, 140],
    classVoxels: { '0': 100, '1': 5, '2': 20, '3': 3, '4': 6 },
    classVolumeMm3: { '1': 5, '2': 20, '3': 3, '4': 6 },
    classComponents: { '1': [5], '2': [20], '3': [3], '4': [6] },
  })),
  foregroundIntensity: [0, 1].map(() => ({
    mean: 0,
    std: 1,
    min: -3,
    max: 3,
    p005: -2,
    p50: 0,
    p995: 2,
    samples: 9,
  })),
  medianSpacing: [1, 1, 1],
  medianShape: [155, 240, 240],
  medianCroppedShape: [140, 170, 140],
  ...o,
});

test('the planner plans regions where the dataset declares them, in its order, with no cascade', () => {
  const p = validatePlans(
    JSON.parse(JSON.stringify(planDataset(fingerprint(), { memoryGb: 1, maxPatchVoxels: 24 ** 3 }))),
  );
  assert.deepEqual(p.regions, [
    { name: 'whole tumour', labels: [1, 2, 3, 4], writeAs: 2 },
    { name: 'tumour core', labels: [1, 3, 4], writeAs: 1 },
    { name: 'enhancing', labels: [4], writeAs: 4 },
  ]);
  assert.deepEqual(p.labelValues, [0, 1, 2, 3, 4]);
  for (const c of Object.values(p.configurations)) assert.equal(c.network.numClasses, 3, c.name);
  assert.ok(!p.configurations['3d_cascade_prior'] && !p.configurations['3d_cascade_crop']);
  assert.equal(outputChannels(p), 3);
  assert.deepEqual(regionClassSets(p), [[1, 2, 3, 4], [1, 3, 4], [4]]);
  // without regions_class_order: one softmax class per label value, as before
  const { regionClassOrder: _, ...plain } = fingerprint();
  const q = planDataset({ ...plain, labels: { background: [0], a: [1], b: [2] } }, { memoryGb: 1 });
  assert.equal(q.regions, undefined);
  assert.equal(q.configurations['3d_fullres']!.network.numClasses, 3);
});

test('plans.json regions are checked: labels known, writeAs readable back, outputs one per region', () => {
  const p = JSON.parse(JSON.stringify(planDataset(fingerprint(), { memoryGb: 1 }))) as Plans;
  const error = (edit: (q: Plans) => void): string => {
    const q = JSON.parse(JSON.stringify(p)) as Plans;
    edit(q);
    try {
      validatePlans(q, 'plans.json');
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.match(
    error((q) => (q.regions![0]!.labels = [1, 2, 9])),
    /regions\[0\]: "whole tumour": labels 9 are not in labelValues/,
  );
  // whole tumour written as 1 would read back as tumour core, which is written later over it anyway
  assert.match(
    error((q) => (q.regions![0]!.writeAs = 1)),
    /writeAs 1 is also in the later region "tumour core"/,
  );
  assert.match(
    error((q) => (q.regions![2]!.writeAs = 2)),
    /writeAs 2 must be one of its labels 4/,
  );
  assert.match(
    error((q) => (q.configurations['3d_fullres']!.network.numClasses = 5)),
    /expected 3 \(one per region\)/,
  );
  assert.equal(
    error(() => {}),
    'accepted',
  );
});

test('region probabilities become labels: each region above one half, later regions over earlier', () => {
  tidy(() => {
    // 5 voxels × regions (WT, TC, ET) probabilities
    const probs = Tensor.fromArray(
      Float32Array.from([
        /* WT */ 0.9, 0.9, 0.9, 0.2, 0.4, /* TC */ 0.1, 0.8, 0.8, 0.9, 0.5, /* ET */ 0.0, 0.2, 0.7, 0.1, 0.51,
      ]),
      [3, 5],
    );
    const labels = Array.from(regionLabelValues(probs, [2, 1, 4]).toArray() as BigInt64Array, Number);
    assert.deepEqual(labels, [2, 1, 4, 1, 4]);
  });
});

test('Dice of regions equals Dice of the label maps reduced to each region', () => {
  const n = 3000;
  const pred = Uint8Array.from({ length: n }, (_, i) => (i * 7919) % 5);
  const ref = Uint8Array.from({ length: n }, (_, i) => (i * 104729 + 3) % 5);
  const regions = [[1, 2, 3, 4], [1, 3, 4], [4]];
  const got = diceOfRegions(pred, ref, regions);
  regions.forEach((set, r) => {
    const inSet = (a: Uint8Array) => Uint8Array.from(a, (v) => (set.includes(v) ? 1 : 0));
    const want = dicePerLabel(inSet(pred), inSet(ref), [1])[0]!;
    assert.ok(Math.abs(got[r]! - want) < 1e-12, `region ${r}: ${got[r]} vs ${want}`);
  });
  assert.ok(Number.isNaN(diceOfRegions(pred, ref, [[7]])[0]!), 'a region in neither map is NaN');
});

test('train + validate + predict a region-based model (synthetic brain tumour, tiny network)', async () => {
  const ds = await synthDataset('brain-tumour');
  const model = path.join(tmp('regions'), 'bt');
  await tinyPlans(ds, model);
  const plans = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')) as Plans;
  assert.deepEqual(
    plans.regions!.map((r) => [r.name, r.writeAs]),
    [
      ['whole tumour', 1],
      ['tumour core', 2],
      ['enhancing tumour', 3],
    ],
  );
  const epochs: number[][] = [];
  await train({
    dataset: ds,
    modelDir: model,
    config: '3d_fullres',
    epochs: 2,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    seed: 1,
    onEpoch: (e) => void epochs.push(e.val_dice),
  });
  // the pseudo-Dice has one entry per region
  assert.ok(epochs.length === 2 && epochs.every((d) => d.length === 3), JSON.stringify(epochs));
  // the report's pseudo-Dice curves are named by region
  const html = readFileSync(await writeReport(model), 'utf8');
  assert.match(html, /tumour core/);
  const summary = (await readOutOfFoldSummary(model, '3d_fullres', 0))!;
  assert.ok(summary.cases.length > 0);
  for (const c of summary.cases)
    assert.deepEqual(Object.keys(c.dice), ['whole tumour', 'tumour core', 'enhancing tumour']);
  // predict one case with its probabilities: the labels are the regions' values written in order
  const input = path.join(ds, 'imagesTr');
  const first = readdirSync(input)
    .find((f) => f.endsWith('_0000.nii.gz'))!
    .replace('_0000.nii.gz', '');
  const out = path.join(tmp('regions-pred'), 'pred');
  await predict({ input, output: out, modelDir: model, threads: 1, saveProbabilities: true });
  const seg = await readImage(path.join(out, `${first}.nii.gz`));
  const probs = await readImage(path.join(out, `${first}_probabilities.nii.gz`));
  assert.equal(probs.shape[3], 3, 'one probability per region');
  const want = tidy(() => {
    const [x, y, z] = seg.shape;
    const p = Tensor.fromArray(Float32Array.from(probs.data as Float32Array), [3, z ?? 1, y!, x!]);
    return Array.from(regionLabelValues(p, [1, 2, 3]).toArray() as BigInt64Array, Number);
  });
  assert.deepEqual(Array.from(seg.data as ArrayLike<number>, Number), want);
  // evaluate --model scores a region-based model on its regions by default
  const ev = medseg([
    'evaluate',
    '--pred',
    out,
    '--ref',
    path.join(ds, 'labelsTr'),
    '--model',
    model,
    '--json',
    '--quiet',
  ]);
  assert.equal(ev.status, 0, ev.stderr);
  const report = JSON.parse(ev.stdout.trim().split('\n').at(-1)!) as { mean: Record<string, unknown> };
  for (const r of plans.regions!)
    assert.ok(r.name in report.mean, `${r.name} in ${Object.keys(report.mean).join(', ')}`);
  // the single-run recipe chooses post-processing on the values the model writes (1, 2, 3), with the
  // references brought to those values
  const single = await writeSingleRunRecipe({ dataset: ds, modelDir: model, config: '3d_fullres', fold: 0 });
  assert.ok(single.written, JSON.stringify(single));
  assert.deepEqual(Object.keys(single.recipe.postprocessing!.perLabel).sort(), ['1', '2', '3']);
});

test("find-best's region labels: the members' mean probability above one half, later regions over earlier", () => {
  // 4 voxels, regions (WT, TC), two members stored as uint8 (value / 255)
  const a = Uint8Array.from([200, 200, 100, 0, /* TC */ 0, 200, 200, 255]);
  const b = Uint8Array.from([100, 0, 100, 0, /* TC */ 0, 100, 0, 255]);
  assert.deepEqual(Array.from(regionLabels([a, b], [2, 1])), [2, 1, 0, 1]);
  assert.deepEqual(Array.from(regionLabels([a], [2, 1])), [2, 1, 1, 1]);
});

test('a pattern dataset with region labels needs regions_class_order, and keeps it for the plan', async () => {
  const ds = await synthDataset('brain-tumour', 2);
  const spec = {
    root: ds,
    images: ['imagesTr/{case}_0000.nii.gz'],
    label: 'labelsTr/{case}.nii.gz',
    labels: { background: 0, wt: [1, 2, 3], core: [2, 3], et: 3 },
  };
  const without = await datasetFromPattern(spec);
  assert.ok(
    without.issues.some(
      (i) => i.severity === 'error' && /region labels need "regions_class_order"/.test(i.message),
    ),
    JSON.stringify(without.issues),
  );
  const withOrder = await datasetFromPattern({ ...spec, regionClassOrder: [1, 2, 3] });
  assert.deepEqual(withOrder.regionClassOrder, [1, 2, 3]);
  assert.ok(!withOrder.issues.some((i) => i.severity === 'error'), JSON.stringify(withOrder.issues));
});

test("a reference in the values a region model writes: each region's value, later regions over earlier", () => {
  const regions = [
    { labels: [1, 2, 3, 4], writeAs: 2 },
    { labels: [1, 3, 4], writeAs: 1 },
    { labels: [4], writeAs: 4 },
  ];
  const ref = Int16Array.from([0, 1, 2, 3, 4, 5]);
  const w = writtenByRegions(ref, regions);
  assert.ok(w instanceof Int16Array);
  assert.deepEqual(Array.from(w), [0, 1, 2, 1, 4, 0]);
});
