// Prediction without libtorch: an exported model run by onnxruntime-node gives the libtorch
// prediction of the same model — label maps (Dice ≥ 0.99 per label) and probabilities (max |Δp|
// stated below) — through every part of the pipeline: resampling, sliding window, mirroring, folds,
// the cascade (both variants, stage 1 exported along), ensembles, post-processing, 2d. The CLI runs
// an export folder with the native addon made unloadable, and --engine onnx exports on the fly.
//
// Measured on this machine (tiny trained 3d_fullres, 4 cases): max |Δp| ≈ 3e-6, identical label maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed } from '../../src/engine/index.js';
import { UNet, saveSafetensors, type UNetSpec } from '../../src/nn/index.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { train } from '../../src/crossval/train.js';
import { predict } from '../../src/infer/predict.js';
import { readImage, writeImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';
import type { Configuration, Plans } from '../../src/plan/planner.js';
import { exportModel } from '../../src/export/exportModel.js';
import { readManifest } from '../../src/export/manifest.js';
import { predictOnnx } from '../../src/deploy/predictOnnx.js';

// onnxruntime-node is an optional dependency: without it these tests skip
const noOrt = (await import('onnxruntime-node').catch(() => null))
  ? false
  : 'onnxruntime-node is not installed';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MEDSEG = path.join(ROOT, 'bin', 'medseg');
const PROB_TOLERANCE = 1e-4;

function dice(a: ArrayLike<number>, b: ArrayLike<number>, label: number): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === label;
    const y = b[i] === label;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

/** Compares two prediction folders case by case; returns the largest probability difference. */
async function compareFolders(
  a: string,
  b: string,
  labels: number[],
  withProbabilities = true,
): Promise<number> {
  const files = readdirSync(a).filter((f) => f.endsWith('.nii.gz') && !f.includes('_probabilities'));
  assert.ok(files.length > 0);
  let worst = 0;
  for (const f of files) {
    const x = await readImage(path.join(a, f));
    const y = await readImage(path.join(b, f));
    assert.deepEqual(y.shape, x.shape, f);
    assert.deepEqual(y.affine, x.affine, f);
    assert.equal(y.datatype, x.datatype, f);
    for (const l of labels.slice(1)) {
      const d = dice(x.data as Uint8Array, y.data as Uint8Array, l);
      assert.ok(d >= 0.99, `${f}: label ${l} Dice ${d}`);
    }
    if (!withProbabilities) continue;
    const pf = f.replace('.nii.gz', '_probabilities.nii.gz');
    const p = (await readImage(path.join(a, pf))).data as Float32Array;
    const q = (await readImage(path.join(b, pf))).data as Float32Array;
    assert.equal(p.length, q.length);
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
  }
  return worst;
}

test(
  'a trained 3d_fullres model: ONNX Runtime = libtorch (labels, probabilities, mirroring), the CLI without libtorch',
  { skip: noOrt },
  async (t) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-onnx-predict-'));
    const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), root, {
      seed: 4,
      size: 'tiny',
      cases: 4,
    });
    const model = path.join(root, 'model');
    const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
    const c = plans.configurations['3d_fullres']!;
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
    writeFileSync(plansFile, JSON.stringify(plans));
    await train({
      dataset: ds,
      modelDir: model,
      config: '3d_fullres',
      fold: 0,
      epochs: 3,
      itersPerEpoch: 4,
      memoryGb: 1,
      threads: 2,
      valPatches: 1,
      validate: false,
    });
    const exp = path.join(root, 'export');
    const r = await exportModel({ modelDir: model, output: exp });
    const m = readManifest(exp);
    assert.deepEqual(m.members, ['3d_fullres']);
    assert.deepEqual(
      m.configurations[0]!.folds.map((f) => f.fold),
      [0],
    );
    assert.deepEqual(m.configurations[0]!.patch, c.patch);
    assert.deepEqual(m.configurations[0]!.spacing, c.spacing);
    assert.deepEqual(m.labelValues, plans.labelValues);
    assert.equal(m.opset, 17);
    assert.equal(r.files.length, 1);
    const images = path.join(ds, 'imagesTr');
    const pt = path.join(root, 'libtorch');
    const onnx = path.join(root, 'onnx');
    await predict({ input: images, output: pt, modelDir: model, saveProbabilities: true, threads: 2 });
    await predictOnnx({ input: images, output: onnx, exportDir: exp, saveProbabilities: true, threads: 2 });
    const diff = await compareFolders(pt, onnx, plans.labelValues);
    t.diagnostic(`max |p_ORT − p_libtorch| = ${diff.toExponential(2)}`);
    assert.ok(diff < PROB_TOLERANCE, `probabilities differ by ${diff}`);

    // mirroring (test-time augmentation) on one case
    const one = path.join(images, readdirSync(images).sort()[0]!);
    await predict({
      input: one,
      output: path.join(root, 'pt-mirror'),
      modelDir: model,
      mirror: true,
      saveProbabilities: true,
      threads: 2,
    });
    await predictOnnx({
      input: one,
      output: path.join(root, 'onnx-mirror'),
      exportDir: exp,
      mirror: true,
      saveProbabilities: true,
      threads: 2,
    });
    const dm = await compareFolders(
      path.join(root, 'pt-mirror'),
      path.join(root, 'onnx-mirror'),
      plans.labelValues,
    );
    assert.ok(dm < PROB_TOLERANCE, `mirrored: probabilities differ by ${dm}`);

    // the CLI on the export folder with the native addon unloadable: nothing of libtorch is needed
    const cliOut = path.join(root, 'cli');
    execFileSync(MEDSEG, ['predict', '-i', images, '-o', cliOut, '-m', exp, '--threads', '2'], {
      env: { ...process.env, MEDSEG_NATIVE: path.join(root, 'no-such-addon.node') },
      stdio: 'pipe',
    });
    for (const f of readdirSync(onnx).filter((x) => !x.includes('_probabilities'))) {
      const a = await readImage(path.join(onnx, f));
      const b = await readImage(path.join(cliOut, f));
      assert.deepEqual(b.data, a.data, f);
    }
    // ...while the libtorch path, under the same condition, says what is missing
    const lt = spawnSync(MEDSEG, ['predict', '-i', one, '-o', path.join(root, 'x.nii.gz'), '-m', model], {
      env: { ...process.env, MEDSEG_NATIVE: path.join(root, 'no-such-addon.node') },
      encoding: 'utf8',
    });
    assert.notEqual(lt.status, 0);
    assert.match(lt.stderr, /native engine is not built/);

    // --engine onnx: exported into MODEL/export on first use, reused after
    const run = () =>
      spawnSync(
        MEDSEG,
        ['predict', '-i', one, '-o', path.join(root, 'engine.nii.gz'), '-m', model, '--engine', 'onnx'],
        {
          encoding: 'utf8',
        },
      );
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /exporting to .*model\/export/);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /reusing the ONNX export/);
    // a checkpoint newer than the export: exported again
    const ck = path.join(model, '3d_fullres', 'fold_0', 'checkpoint_latest.safetensors');
    utimesSync(ck, new Date(), new Date(Date.now() + 5000));
    const third = run();
    assert.equal(third.status, 0, third.stderr);
    assert.match(third.stderr, /exporting again .*checkpoint_latest\.safetensors changed since/);
    const engine = await readImage(path.join(root, 'engine.nii.gz'));
    assert.deepEqual(
      engine.data,
      (await readImage(path.join(onnx, path.basename(one).replace('_0000', '')))).data,
    );

    // bad input: an image with another channel count → one line naming the file
    const img = await readImage(one);
    const two: Volume = {
      ...img,
      shape: [...img.shape.slice(0, 3), 2],
      data: (() => {
        const d = new (img.data.constructor as Float32ArrayConstructor)(img.data.length * 2);
        d.set(img.data as Float32Array);
        d.set(img.data as Float32Array, img.data.length);
        return d;
      })(),
    };
    const twoFile = path.join(root, 'two_channels.nii.gz');
    await writeImage(twoFile, two);
    const bad = spawnSync(MEDSEG, ['predict', '-i', twoFile, '-o', path.join(root, 'y.nii.gz'), '-m', exp], {
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('medseg predict:'));
    assert.equal(errors.length, 1, bad.stderr);
    assert.match(errors[0]!, /two_channels\.nii\.gz: 2 channel\(s\) given, the model expects 1$/);
  },
);

/** A tiny network spec; random weights are enough to compare two engines. */
function tinySpec(dims: 2 | 3, inputChannels: number, K: number): UNetSpec {
  const k = new Array<number>(dims).fill(3);
  return {
    architecture: 'plain',
    dims,
    inputChannels,
    numClasses: K,
    features: [4, 8],
    kernelSizes: [k, k],
    strides: [k.map(() => 1), k.map(() => 2)],
    encoderBlocks: [1, 1],
    decoderConvs: [1],
    deepSupervision: false,
  };
}

async function saveNet(model: string, config: Configuration, fold: number, seed: number): Promise<void> {
  manualSeed(seed);
  const net = new UNet(config.network);
  const dir = path.join(model, config.name, `fold_${fold}`);
  mkdirSync(dir, { recursive: true });
  await saveSafetensors(path.join(dir, 'checkpoint_latest.safetensors'), net.stateDict(), {
    state: JSON.stringify({
      epoch: 1,
      totalEpochs: 1,
      itersPerEpoch: 1,
      bestEma: 0,
      ema: 0,
      config: config.name,
      fold,
    }),
  });
  net.dispose();
}

test(
  'the cascade (prior and crop, stage 1 exported along), a two-member ensemble, post-processing, 2d, two folds: ONNX Runtime = libtorch',
  { skip: noOrt },
  async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-onnx-cascade-'));
    const model = path.join(root, 'model');
    mkdirSync(model, { recursive: true });
    const K = 3;
    const base = (
      name: Configuration['name'],
      spacing: number[],
      patch: number[],
      dims: 2 | 3,
      inputChannels = 1,
    ): Configuration =>
      ({
        name,
        spacing,
        medianShape: [16, 24, 24],
        patch,
        batchSize: 2,
        network: tinySpec(dims, inputChannels, K),
        normalization: [{ scheme: 'zscore' }],
        imageInterpolation: 'linear',
        labelInterpolation: 'nearest',
      }) as Configuration;
    const configs: Configuration[] = [
      base('3d_lowres', [3, 2, 2], [8, 8, 8], 3),
      {
        ...base('3d_cascade_prior', [2, 1, 1], [8, 16, 16], 3, 1 + K - 1),
        cascade: { previousStage: '3d_lowres', variant: 'prior', marginMm: 2 },
      },
      {
        ...base('3d_cascade_crop', [2, 1, 1], [8, 16, 16], 3),
        cascade: { previousStage: '3d_lowres', variant: 'crop', marginMm: 2 },
        imageInterpolation: 'cubic',
      },
      base('2d', [2, 1, 1], [16, 16], 2),
    ];
    const plans = {
      version: 1,
      dataset: 'synthetic',
      axes: 'zyx',
      channelNames: ['MR'],
      labelValues: [0, 1, 4],
      memoryGb: 1,
      configurations: Object.fromEntries(configs.map((c) => [c.name, c])),
      lowresReason: 'test',
    } as unknown as Plans;
    writeFileSync(path.join(model, 'plans.json'), JSON.stringify(plans));
    let seed = 10;
    for (const c of configs) for (const f of [0, 1]) await saveNet(model, c, f, seed++);
    writeFileSync(
      path.join(model, 'inference.json'),
      JSON.stringify({
        version: 1,
        configurations: ['3d_cascade_prior', '3d_cascade_crop'],
        folds: [0, 1],
        checkpoint: 'latest',
        postprocessing: {
          foreground: true,
          perLabel: { '4': true },
          dice: { before: 0, after: 0 },
          diceByLabel: {},
          connectivity: 26,
        },
        candidates: [],
        cases: 0,
      }),
    );
    // two images: anisotropic (3 mm slices) and one with an empty border (the crop matters)
    const images = path.join(root, 'images');
    mkdirSync(images);
    for (const [i, [shape, spacing]] of (
      [
        [
          [20, 18, 7],
          [1.1, 0.9, 3],
        ],
        [
          [25, 22, 12],
          [0.8, 1.2, 1.6],
        ],
      ] as const
    ).entries()) {
      const [X, Y, Z] = shape;
      const data = new Float32Array(X * Y * Z);
      for (let z = 0; z < Z; z++)
        for (let y = 0; y < Y; y++)
          for (let x = 0; x < X; x++) {
            const r = Math.hypot((x - X / 2) / (X / 3), (y - Y / 2) / (Y / 3), (z - Z / 2) / (Z / 3));
            const border = i === 1 && (x < 3 || y > Y - 3);
            data[x + X * (y + Y * z)] = border
              ? 0
              : 50 + 100 * Math.exp(-r * r) + 10 * Math.sin(x * 1.7 + y * 0.3 + z);
          }
      const affine = [
        [spacing[0], 0, 0, -10],
        [0, spacing[1], 0, 5],
        [0, 0, spacing[2], 2],
        [0, 0, 0, 1],
      ];
      await writeImage(path.join(images, `case${i}_0000.nii.gz`), {
        data,
        shape: [...shape],
        spacing: [...spacing],
        affine,
        datatype: 'float32',
        sclSlope: 1,
        sclInter: 0,
      } as Volume);
    }
    const exp = path.join(root, 'export');
    await exportModel({ modelDir: model, output: exp });
    const m = readManifest(exp);
    assert.deepEqual(
      m.configurations.map((c) => c.name),
      ['3d_lowres', '3d_cascade_prior', '3d_cascade_crop'],
    );
    assert.deepEqual(
      m.configurations.map((c) => c.folds.length),
      [2, 2, 2],
    );
    assert.equal(m.postprocessing?.foreground, true);
    // the recipe (both cascade variants averaged, post-processing)
    await predict({ input: images, output: path.join(root, 'pt'), modelDir: model, saveProbabilities: true });
    await predictOnnx({
      input: images,
      output: path.join(root, 'onnx'),
      exportDir: exp,
      saveProbabilities: true,
    });
    const d = await compareFolders(path.join(root, 'pt'), path.join(root, 'onnx'), plans.labelValues);
    assert.ok(d < PROB_TOLERANCE, `recipe: probabilities differ by ${d}`);
    // each variant alone, and 2d (exported separately)
    for (const config of ['3d_cascade_crop', '3d_cascade_prior', '2d'] as const) {
      const e = path.join(root, `export-${config}`);
      await exportModel({
        modelDir: model,
        output: e,
        config,
        folds: [1],
        convTranspose: config === '2d' ? 'depthToSpace' : 'native',
      });
      await predict({
        input: images,
        output: path.join(root, `pt-${config}`),
        modelDir: model,
        config,
        folds: [1],
        saveProbabilities: true,
      });
      await predictOnnx({
        input: images,
        output: path.join(root, `onnx-${config}`),
        exportDir: e,
        saveProbabilities: true,
      });
      const dc = await compareFolders(
        path.join(root, `pt-${config}`),
        path.join(root, `onnx-${config}`),
        plans.labelValues,
      );
      assert.ok(dc < PROB_TOLERANCE, `${config}: probabilities differ by ${dc}`);
    }
    // label names fall back to generic ones without a fingerprint
    assert.deepEqual(JSON.parse(readFileSync(path.join(exp, 'export.json'), 'utf8')).labelNames, {
      '0': 'background',
      '1': 'label 1',
      '4': 'label 4',
    });
  },
);
