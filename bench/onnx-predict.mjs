// Prediction time and peak memory per case: libtorch (medseg predict) vs onnxruntime-node (the same
// model exported to ONNX, predicted from the export folder), each case in its own process per engine
// so that peak RSS is that case's. Real volumes from ../shared/data (MEDSEG_REAL_DATA): the MSD
// spleen CT crop (1 channel, 0.79×0.79×5 mm) and BraTS 2013 pat0003 (FLAIR + T1c, 240×240×155).
// Networks: nnU-Net's default 3d_fullres U-Net for each patch (random weights: the cost of a
// forward pass does not depend on them). Also reports the label agreement (Dice per label).
//   node bench/onnx-predict.mjs [--threads 2] [--mirror] [--cases spleen,brats]   (after npm run build)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    mirror: { type: 'boolean', default: false },
    cases: { type: 'string', default: 'spleen,brats' },
    data: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
    child: { type: 'string' },
    input: { type: 'string' },
    model: { type: 'string' },
    output: { type: 'string' },
  },
});
const threads = Number(values.threads);

if (values.child) {
  // one engine, one case, then report this process's peak RSS
  const t0 = performance.now();
  let r;
  if (values.child === 'libtorch') {
    const { predict } = await import('../dist/src/infer/predict.js');
    r = await predict({
      input: values.input,
      output: values.output,
      modelDir: values.model,
      threads,
      mirror: values.mirror,
    });
  } else {
    const { predictOnnx } = await import('../dist/src/deploy/predictOnnx.js');
    r = await predictOnnx({
      input: values.input,
      output: values.output,
      exportDir: values.model,
      threads,
      mirror: values.mirror,
    });
  }
  const total = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({ seconds: r.cases[0].seconds, total, peakRssMB: process.resourceUsage().maxRSS / 1024 }),
  );
  process.exit(0);
}

const { manualSeed } = await import('../dist/src/engine/index.js');
const { UNet, saveSafetensors, defaultPlainSpec } = await import('../dist/src/nn/index.js');
const { exportModel } = await import('../dist/src/export/exportModel.js');
const { readImage } = await import('../dist/src/io/image.js');

const out = path.resolve('bench/out/onnx-predict');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const data = path.resolve(values.data);
const CASES = {
  spleen: {
    files: [path.join(data, 'msd-spleen-crop/sub-spleen2/ct/sub-spleen2_ct.nii.gz')],
    channelNames: ['CT'],
    normalization: [{ scheme: 'ct', ct: { mean: 100, std: 50, p005: -100, p995: 300 } }],
    spacing: [5, 0.79, 0.79],
    patch: [16, 64, 64],
    labelValues: [0, 1],
  },
  brats: {
    files: ['Flair_subtrMeanDivStd', 'T1c_subtrMeanDivStd'].map((f) =>
      path.join(data, `brats2013-deepmedic/brats_2013_pat0003_1/${f}.nii.gz`),
    ),
    channelNames: ['FLAIR', 'T1c'],
    normalization: [{ scheme: 'zscore' }, { scheme: 'zscore' }],
    spacing: [1, 1, 1],
    patch: [64, 64, 64],
    labelValues: [0, 1, 2, 3, 4],
  },
};

function dice(a, b, l) {
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
  return na + nb ? (2 * i) / (na + nb) : 1;
}

const script = fileURLToPath(import.meta.url);
const rows = [];
for (const name of values.cases.split(',')) {
  const c = CASES[name];
  if (!c.files.every((f) => existsSync(f))) {
    console.error(`${name}: skipped (${c.files[0]} not found; set MEDSEG_REAL_DATA)`);
    continue;
  }
  const dir = path.join(out, name);
  const images = path.join(dir, 'images');
  mkdirSync(images, { recursive: true });
  c.files.forEach((f, i) =>
    symlinkSync(f, path.join(images, `${name}_${String(i).padStart(4, '0')}.nii.gz`)),
  );
  const model = path.join(dir, 'model');
  const network = {
    ...defaultPlainSpec(c.patch, c.files.length, c.labelValues.length),
    deepSupervision: false,
  };
  const config = {
    name: '3d_fullres',
    spacing: c.spacing,
    medianShape: c.patch,
    patch: c.patch,
    batchSize: 2,
    network,
    normalization: c.normalization,
    imageInterpolation: 'linear',
    labelInterpolation: 'nearest',
  };
  mkdirSync(path.join(model, '3d_fullres', 'fold_0'), { recursive: true });
  writeFileSync(
    path.join(model, 'plans.json'),
    JSON.stringify({
      version: 1,
      dataset: name,
      axes: 'zyx',
      channelNames: c.channelNames,
      labelValues: c.labelValues,
      memoryGb: 8,
      configurations: { '3d_fullres': config },
      lowresReason: '',
    }),
  );
  manualSeed(0);
  const net = new UNet(network);
  await saveSafetensors(
    path.join(model, '3d_fullres', 'fold_0', 'checkpoint_best.safetensors'),
    net.stateDict(),
    {
      state: JSON.stringify({
        epoch: 0,
        totalEpochs: 1,
        itersPerEpoch: 1,
        bestEma: 0,
        ema: 0,
        config: '3d_fullres',
        fold: 0,
      }),
    },
  );
  const params = net.numParameters();
  net.dispose();
  const exp = path.join(dir, 'export');
  await exportModel({ modelDir: model, output: exp });
  const res = {};
  for (const engine of ['libtorch', 'onnx']) {
    const o = path.join(dir, `pred-${engine}`);
    const args = [
      script,
      '--child',
      engine,
      '--input',
      images,
      '--model',
      engine === 'onnx' ? exp : model,
      '--output',
      o,
      '--threads',
      values.threads,
    ];
    if (values.mirror) args.push('--mirror');
    res[engine] = JSON.parse(
      execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop(),
    );
    res[engine].labels = (await readImage(path.join(o, `${name}.nii.gz`))).data;
  }
  const img = await readImage(c.files[0]);
  const agreement = c.labelValues
    .slice(1)
    .map((l) => dice(res.libtorch.labels, res.onnx.labels, l).toFixed(4))
    .join(' / ');
  const row = {
    case: name,
    shape: img.shape.slice(0, 3).join('×'),
    patch: c.patch.join('×'),
    params,
    libtorch: res.libtorch,
    onnx: res.onnx,
    agreement,
  };
  delete row.libtorch.labels;
  delete row.onnx.labels;
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log('\n| case | image | patch | engine | predict (s) | process total (s) | peak RSS (MB) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  for (const e of ['libtorch', 'onnx'])
    console.log(
      `| ${r.case} | ${r.shape} | ${r.patch} | ${e === 'onnx' ? 'onnxruntime-node' : 'libtorch'} | ${r[e].seconds.toFixed(1)} | ${r[e].total.toFixed(1)} | ${r[e].peakRssMB.toFixed(0)} |`,
    );
console.log('\nlabel agreement (Dice per foreground label, ORT vs libtorch):');
for (const r of rows) console.log(`  ${r.case}: ${r.agreement}`);
