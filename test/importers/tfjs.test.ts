// brainchop's MeshNet (TensorFlow.js layers model) imported: `medseg predict` on an import folder
// (onnxruntime-node) and nn/meshnet.ts on libtorch agree with @tensorflow/tfjs itself (pure-JS CPU
// backend) on a real T1 — per-label Dice ≥ 0.99 and the logits' max difference stated below.
// Slow-ish (tfjs's CPU conv3d): one small model (model5_gw_ae, 5 channels) on a 32³ piece of
// t1_crop.nii.gz. Skipped when the shared real data is absent.
//
// Measured on this machine: max |Δlogit| ≈ 2e-5 for both engines (logits of magnitude ~10), labels identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tensor, noGrad, tidy } from '../../src/engine/index.js';
import { MeshNet } from '../../src/nn/meshnet.js';
import { readTfjsModel } from '../../src/importers/tfjs.js';
import { importTfjs } from '../../src/importers/importTfjs.js';
import { predictOnnx } from '../../src/deploy/predictOnnx.js';
import { readImage, writeImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';
import { realDataDir } from '../io/helpers.js';

// onnxruntime-node is an optional dependency: without it these tests skip
const noOrt = (await import('onnxruntime-node').catch(() => null))
  ? false
  : 'onnxruntime-node is not installed';
const BRAINCHOP = path.join(realDataDir, 'brainchop');
const MODEL = path.join(BRAINCHOP, 'models', 'model5_gw_ae', 'model.json');
const S = 32;
const CORNER = [100, 112, 118]; // x, y, z inside the brain

/** The model run by TensorFlow.js on [z, y, x] values fed as brainchop feeds them ([x, y, z]); logits [K, z, y, x]. */
async function tfjsLogits(
  modelJson: string,
  values: Float32Array,
  n: number,
): Promise<{ logits: Float32Array; K: number }> {
  await tf.setBackend('cpu');
  const mj = JSON.parse(readFileSync(modelJson, 'utf8'));
  // the declared 256³ input would refuse a smaller piece: the network is fully convolutional
  mj.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, null, null, null, 1];
  const shards = mj.weightsManifest.flatMap((g: { paths: string[] }) =>
    g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p))),
  );
  const all = Buffer.concat(shards);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: mj.modelTopology,
      weightSpecs: mj.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
    }),
  );
  const input = tf.tensor(values, [n, n, n]).transpose([2, 1, 0]).reshape([1, n, n, n, 1]);
  const out = model.predict(input) as tf.Tensor;
  const K = out.shape[4]!;
  const logits = (await out.reshape([n, n, n, K]).transpose([3, 2, 1, 0]).data()) as Float32Array;
  input.dispose();
  out.dispose();
  model.dispose();
  return { logits, K };
}

function argmax(logits: ArrayLike<number>, K: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[k * n + i]! > logits[best * n + i]!) best = k;
    out[i] = best;
  }
  return out;
}

function dice(a: Uint8Array, b: ArrayLike<number>, l: number): number {
  let i = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] === l;
    const y = b[k] === l;
    na += +x;
    nb += +y;
    i += +(x && y);
  }
  return na + nb ? (2 * i) / (na + nb) : 1;
}

test(
  'brainchop MeshNet: medseg predict (ONNX Runtime) and libtorch = TensorFlow.js on a real T1',
  { skip: noOrt },
  async (t) => {
    if (!existsSync(MODEL)) return t.skip(`real data not found at ${MODEL} (set MEDSEG_REAL_DATA)`);
    const t1 = await readImage(path.join(BRAINCHOP, 't1_crop.nii.gz'));
    const [X, Y] = t1.shape as [number, number, number];
    const n = S ** 3;
    // a 32³ piece, written as a NIfTI for `predict`, and min-max rescaled for the references
    const piece = new Float32Array(n);
    for (let z = 0; z < S; z++)
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++)
          piece[(z * S + y) * S + x] = Number(
            t1.data[CORNER[0]! + x + X * (CORNER[1]! + y + Y * (CORNER[2]! + z))],
          );
    assert.ok(
      piece.every((v) => v !== 0),
      'the piece lies inside the head (no crop to non-zero)',
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of piece) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const rescaled = piece.map((v) => (v - lo) / (hi - lo));
    const { logits: ref, K } = await tfjsLogits(MODEL, rescaled, S);
    const refLabels = argmax(ref, K, n);
    const counts = new Set(refLabels);
    assert.ok(counts.size >= 2, 'the piece holds more than one class');

    // libtorch: nn/meshnet.ts with the imported weights
    const m = readTfjsModel(MODEL, { transpose: true });
    const net = new MeshNet(m.spec);
    noGrad(() => {
      for (const [k, p] of net.stateDict()) {
        const w = m.weights.get(k)!;
        tidy(() => p.copy_(Tensor.fromArray(w.data, w.shape)));
      }
    });
    const lt = tidy(
      () => noGrad(() => net.forward(Tensor.fromArray(rescaled, [1, 1, S, S, S]))).toArray() as Float32Array,
    );
    net.dispose();
    let dl = 0;
    for (let i = 0; i < lt.length; i++) dl = Math.max(dl, Math.abs(lt[i]! - ref[i]!));
    t.diagnostic(`libtorch MeshNet vs tfjs: max |Δlogit| = ${dl.toExponential(2)}`);
    assert.ok(dl < 1e-3, `libtorch vs tfjs logits differ by ${dl}`);
    const ltLabels = argmax(lt, K, n);

    // medseg import tfjs + medseg predict (onnxruntime-node), the piece as one window
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-tfjs-'));
    const imported = path.join(dir, 'imported');
    const { manifestFile } = await importTfjs({ modelJson: MODEL, output: imported, patch: [S, S, S] });
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    assert.deepEqual(Object.values(manifest.labelNames).length, K);
    const image = path.join(dir, 'piece.nii.gz');
    await writeImage(image, {
      data: piece,
      shape: [S, S, S],
      spacing: [1, 1, 1],
      affine: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
      datatype: 'float32',
      sclSlope: 1,
      sclInter: 0,
    } as Volume);
    const out = path.join(dir, 'seg.nii.gz');
    await predictOnnx({ input: image, output: out, exportDir: imported });
    const seg = (await readImage(out)).data as Uint8Array;
    for (let l = 0; l < K; l++) {
      if (!refLabels.includes(l)) continue;
      const a = dice(refLabels, seg, l);
      const b = dice(refLabels, ltLabels, l);
      t.diagnostic(`label ${l}: Dice predict(ORT) vs tfjs ${a.toFixed(4)}, libtorch vs tfjs ${b.toFixed(4)}`);
      assert.ok(a >= 0.99, `label ${l}: medseg predict vs tfjs Dice ${a}`);
      assert.ok(b >= 0.99, `label ${l}: libtorch vs tfjs Dice ${b}`);
    }
  },
);

test('tfjs import: a layer MeshNet does not have → one line naming the file and the layer', (t) => {
  if (!existsSync(MODEL)) return t.skip(`real data not found at ${MODEL}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-tfjs-bad-'));
  const mj = JSON.parse(readFileSync(MODEL, 'utf8'));
  mj.modelTopology.model_config.config.layers[2].class_name = 'MaxPooling3D';
  const file = path.join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(mj));
  assert.throws(
    () => readTfjsModel(file),
    /model\.json: weight file .* is missing|MaxPooling3D is not supported/,
  );
  for (const p of mj.weightsManifest[0].paths)
    writeFileSync(path.join(dir, p), readFileSync(path.join(path.dirname(MODEL), p)));
  assert.throws(() => readTfjsModel(file), /model\.json: layer .*: MaxPooling3D is not supported/);
  writeFileSync(path.join(dir, mj.weightsManifest[0].paths[0]), Buffer.alloc(100));
  mj.modelTopology.model_config.config.layers[2].class_name = 'Activation';
  writeFileSync(file, JSON.stringify(mj));
  assert.throws(() => readTfjsModel(file), /the weight files end inside/);
});
