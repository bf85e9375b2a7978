// A budgeted fine-tuning run writes the inference recipe as a budgeted `train` does (post-processing
// chosen without cross-validation, src/evaluate/singleRunRecipe.ts), keeps the source's network (a
// budget does not re-plan a network whose weights are loaded), and `predict` on its folder applies
// the recipe; an unbudgeted run writes none (find-best's job after its folds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { finetune } from '../../src/transfer/finetune.js';
import { readPlans } from '../../src/plan/schema.js';
import { readRecipe } from '../../src/infer/recipe.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { applyPostprocessing } from '../../src/postprocess/index.js';
import { synthDataset, tinyModel, tmp } from './fixtures.js';

test('a budgeted finetune writes inference.json and predict on its folder applies it', async () => {
  const { model: source } = await tinyModel('liver');
  const ds = await synthDataset('spleen', 4, 2);
  const common = {
    dataset: ds,
    from: source,
    epochs: 1,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    validate: false,
    seed: 1,
  };

  const plain = path.join(tmp('ft-plain'), 'out');
  const unbudgeted = await finetune({ ...common, modelDir: plain });
  assert.equal(unbudgeted.recipe.written, false);
  assert.equal(existsSync(path.join(plain, 'inference.json')), false);

  const out = path.join(tmp('ft-budget'), 'out');
  const logs: string[] = [];
  const { recipe } = await finetune({
    ...common,
    modelDir: out,
    budgetSeconds: 600,
    log: (s) => logs.push(s),
  });
  assert.ok(recipe.written, logs.join('\n'));
  // the source's network, not one re-planned for the budget: the loaded weights need it
  const srcNet = (await readPlans(path.join(source, 'plans.json'))).configurations['3d_fullres']!.network;
  const outNet = (await readPlans(path.join(out, 'plans.json'))).configurations['3d_fullres']!.network;
  assert.deepEqual(outNet.features, srcNet.features);
  assert.deepEqual(outNet.strides, srcNet.strides);
  assert.match(logs.join('\n'), /kept as it is \(the run starts from given weights/);
  const onDisk = (await readRecipe(out))!;
  assert.deepEqual(onDisk.postprocessingChoice, recipe.recipe.postprocessingChoice);
  assert.equal(onDisk.postprocessingChoice?.rule, 'training-labels');
  assert.deepEqual(onDisk.folds, [0]);
  assert.ok(onDisk.postprocessing);
  assert.match(logs.join('\n'), /inference recipe \(no cross-validation\): 3d_fullres fold\(s\) 0/);

  const input = path.join(ds, 'imagesTr', readdirSync(path.join(ds, 'imagesTr')).sort()[0]!);
  const dir = tmp('ft-pred');
  const plog: string[] = [];
  await predict({
    input,
    output: path.join(dir, 'pp.nii.gz'),
    modelDir: out,
    threads: 1,
    log: (s) => plog.push(s),
  });
  await predict({
    input,
    output: path.join(dir, 'raw.nii.gz'),
    modelDir: out,
    threads: 1,
    postprocess: false,
  });
  assert.match(plog.join('\n'), /inference recipe: 3d_fullres, folds 0/);
  const pp = await readImage(path.join(dir, 'pp.nii.gz'));
  const raw = await readImage(path.join(dir, 'raw.nii.gz'));
  const shape = [pp.shape[2] ?? 1, pp.shape[1]!, pp.shape[0]!];
  assert.deepEqual(pp.data, applyPostprocessing(raw.data as Uint8Array, shape, onDisk.postprocessing!));
});
