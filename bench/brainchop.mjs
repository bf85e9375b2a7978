// brainchop's MeshNets three ways on the shared T1 (../shared/data/brainchop/t1_crop.nii.gz, 256³):
// TensorFlow.js (pure-JS CPU backend, as a Node user without tfjs-node has it), medseg's libtorch
// MeshNet (nn/meshnet.ts) and onnxruntime-node (the `medseg import tfjs` export) on the same piece
// of N³ voxels (tfjs is too slow for the whole volume here), then `medseg predict` (ORT) on the whole
// volume. Times exclude model loading; labels compared by Dice per class against tfjs.
//   node bench/brainchop.mjs [--model model5_gw_ae] [--size 64] [--threads 2]   (after npm run build)
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { readTfjsModel } from '../dist/src/importers/tfjs.js';
import { importTfjs } from '../dist/src/importers/importTfjs.js';
import { MeshNet } from '../dist/src/nn/meshnet.js';
import { OnnxNetwork } from '../dist/src/deploy/onnxNetwork.js';
import { predictOnnx } from '../dist/src/deploy/predictOnnx.js';
import { Tensor, noGrad, tidy, setThreads } from '../dist/src/engine/index.js';
import { readImage } from '../dist/src/io/image.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'model5_gw_ae' },
    size: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    data: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
  },
});
const S = Number(values.size);
const threads = Number(values.threads);
const root = path.resolve(values.data, 'brainchop');
const modelJson = path.join(root, 'models', values.model, 'model.json');
const out = path.resolve('bench/out/brainchop');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const t1 = await readImage(path.join(root, 't1_crop.nii.gz'));
const [X, Y, Z] = t1.shape;
const c = [X / 2 - S / 2, Y / 2 - S / 2, Z / 2 - S / 2].map(Math.round);
const n = S ** 3;
const piece = new Float32Array(n);
for (let z = 0; z < S; z++)
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      piece[(z * S + y) * S + x] = t1.data[c[0] + x + X * (c[1] + y + Y * (c[2] + z))];
let lo = Infinity,
  hi = -Infinity;
for (const v of piece) {
  lo = Math.min(lo, v);
  hi = Math.max(hi, v);
}
const input = piece.map((v) => (v - lo) / (hi - lo));

// TensorFlow.js
await tf.setBackend('cpu');
const mj = JSON.parse(readFileSync(modelJson, 'utf8'));
mj.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, null, null, null, 1];
const all = Buffer.concat(
  mj.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p)))),
);
const tm = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: mj.modelTopology,
    weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
  }),
);
let t0 = performance.now();
const o = tm.predict(tf.tensor(input, [S, S, S]).transpose([2, 1, 0]).reshape([1, S, S, S, 1]));
const K = o.shape[4];
const ref = await o.reshape([S, S, S, K]).transpose([3, 2, 1, 0]).data();
const tTfjs = (performance.now() - t0) / 1000;

// libtorch
setThreads(threads);
const m = readTfjsModel(modelJson, { transpose: true });
const net = new MeshNet(m.spec);
noGrad(() => {
  for (const [k, p] of net.stateDict()) {
    const w = m.weights.get(k);
    tidy(() => p.copy_(Tensor.fromArray(w.data, w.shape)));
  }
});
t0 = performance.now();
const lt = tidy(() => noGrad(() => net.forward(Tensor.fromArray(input, [1, 1, S, S, S]))).toArray());
const tLibtorch = (performance.now() - t0) / 1000;

// onnxruntime-node, the same piece
const pieceDir = path.join(out, 'piece');
await importTfjs({ modelJson, output: pieceDir, patch: [S, S, S] });
const onnxNet = await OnnxNetwork.load(path.join(pieceDir, 'meshnet.onnx'), {
  threads,
  inputChannels: 1,
  numClasses: K,
  patch: [S, S, S],
});
t0 = performance.now();
const ort = await onnxNet.run(input, 1);
const tOrt = (performance.now() - t0) / 1000;
await onnxNet.dispose();

const argmax = (a) => {
  const r = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (a[k * n + i] > a[b * n + i]) b = k;
    r[i] = b;
  }
  return r;
};
const dice = (a, b, l) => {
  let i = 0,
    na = 0,
    nb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] === l,
      y = b[k] === l;
    na += x;
    nb += y;
    i += x && y;
  }
  return na + nb ? (2 * i) / (na + nb) : NaN;
};
const maxDiff = (a, b) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
const lr = argmax(ref),
  ll = argmax(lt),
  lo2 = argmax(ort);
const present = [...new Set(lr)].sort((a, b) => a - b);
const minDice = (x) => Math.min(...present.map((l) => dice(lr, x, l)));

// medseg predict (ORT) on the whole volume, one 256³ window
const whole = path.join(out, 'whole');
await importTfjs({ modelJson, output: whole });
t0 = performance.now();
const r = await predictOnnx({
  input: path.join(root, 't1_crop.nii.gz'),
  output: path.join(out, 'seg.nii.gz'),
  exportDir: whole,
  threads,
});
const tPredict = (performance.now() - t0) / 1000;

console.log(
  JSON.stringify({
    model: values.model,
    piece: S,
    classes: K,
    tfjs: tTfjs,
    libtorch: tLibtorch,
    onnx: tOrt,
    maxDiffLibtorch: maxDiff(lt, ref),
    maxDiffOnnx: maxDiff(ort, ref),
    minDiceLibtorch: minDice(ll),
    minDiceOnnx: minDice(lo2),
    predictWhole: tPredict,
    predictCase: r.cases[0].seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
