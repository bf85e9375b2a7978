// `medseg demo` is a budgeted run: it writes the inference recipe as `train --budget` does
// (post-processing chosen without cross-validation: here the training-label prior, since the demo
// predicts its validation cases itself) and its predictions follow it. The calibration is a made-up
// cache (a fast machine) so that the test does not time the probes; the demo still times its chosen
// network once and trains one iteration per epoch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDemo } from '../../src/demo/pipeline.js';
import { calibrationFile, calibrationKey, keyDigest } from '../../src/plan/calibrate.js';
import { readRecipe } from '../../src/infer/recipe.js';
import { predict } from '../../src/infer/predict.js';
import { readImage } from '../../src/io/image.js';
import { applyPostprocessing } from '../../src/postprocess/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-demo-recipe-'));
const savedCache = process.env.MEDSEG_CACHE;
after(() => {
  if (savedCache === undefined) delete process.env.MEDSEG_CACHE;
  else process.env.MEDSEG_CACHE = savedCache;
  rmSync(root, { recursive: true, force: true });
});

test('the demo writes the budgeted inference recipe and predicts with it', async () => {
  const cache = path.join(root, 'cache');
  process.env.MEDSEG_CACHE = cache;
  mkdirSync(cache, { recursive: true });
  const key = calibrationKey('fp32', os.availableParallelism());
  const points = [1, 4, 16].map((g, i) => ({ name: `probe${i}`, gflop: g, seconds: g / 50 }));
  writeFileSync(
    calibrationFile(key, cache),
    JSON.stringify({ key, digest: keyDigest(key), measuredAt: 'test', points, model: {} }),
  );
  const logs: string[] = [];
  const work = path.join(root, 'demo');
  const r = await runDemo({
    workDir: work,
    size: 'tiny',
    cases: 4,
    budgetSeconds: 60,
    itersPerEpoch: 1,
    fp32: true,
    seed: 1,
    log: (s) => logs.push(s),
  });
  assert.ok(r.recipe.written, logs.join('\n'));
  const recipe = (await readRecipe(r.modelDir))!;
  assert.equal(recipe.postprocessingChoice?.rule, 'training-labels');
  assert.deepEqual(recipe.folds, [0]);
  assert.ok(recipe.postprocessing);
  const predDir = path.join(work, 'predictions');
  const cases = readdirSync(predDir).sort();
  assert.ok(cases.length > 0);
  assert.equal(
    logs.filter((l) => /^inference recipe: 3d_fullres, folds 0/.test(l)).length,
    cases.length,
    'every demo prediction followed the recipe',
  );
  // the demo's label map is the raw prediction with the recipe's post-processing applied
  const id = cases[0]!.replace(/\.nii\.gz$/, '');
  const raw = path.join(root, 'raw.nii.gz');
  await predict({
    input: path.join(r.dataset, 'imagesTr', `${id}_0000.nii.gz`),
    output: raw,
    modelDir: r.modelDir,
    postprocess: false,
  });
  const a = await readImage(path.join(predDir, cases[0]!));
  const b = await readImage(raw);
  const shape = [b.shape[2] ?? 1, b.shape[1]!, b.shape[0]!];
  assert.deepEqual(a.data, applyPostprocessing(b.data as Uint8Array, shape, recipe.postprocessing!));
});
