// The in-browser segmentation page's time for one volume against onnxruntime-node on the same export
// (predict -m EXPORT_DIR, in this process): headless Chromium (Debian's chromium, playwright-core),
// onnxruntime-web's WebAssembly backend (one thread: `medseg serve` does not make the page cross-origin
// isolated), and the label agreement (Dice per label) of the two. The export is a tiny trained model
// (as test/web/segment.test.ts trains it) unless --export names one; the image is the shared MSD
// spleen CT crop unless --image names one.
//   node bench/segment-page.mjs [--export DIR] [--image FILE] [--threads 1] [--repeat 2]   (after npm run build, npm run build:web)
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    export: { type: 'string' },
    image: { type: 'string' },
    threads: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '2' },
    data: { type: 'string', default: process.env.MEDSEG_REAL_DATA ?? '../shared/data' },
  },
});
const out = path.resolve('bench/out/segment-page');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const image = path.resolve(
  values.image ?? path.join(values.data, 'msd-spleen-crop/sub-spleen2/ct/sub-spleen2_ct.nii.gz'),
);
if (!existsSync(image)) throw new Error(`${image}: not found (set MEDSEG_REAL_DATA or --image)`);

const { predictOnnx } = await import('../dist/src/deploy/predictOnnx.js');
const { readImage } = await import('../dist/src/io/image.js');
const { serveViewer } = await import('../dist/src/web/index.js');
let exp = values.export && path.resolve(values.export);
let modelDir;
if (!exp) {
  const { writeSynthDataset, findTask } = await import('../dist/src/synth/index.js');
  const { plan } = await import('../dist/src/plan/run.js');
  const { train } = await import('../dist/src/crossval/train.js');
  const { exportModel } = await import('../dist/src/export/exportModel.js');
  const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), out, {
    seed: 4,
    size: 'tiny',
    cases: 4,
  });
  modelDir = path.join(out, 'model');
  const { plans, plansFile } = await plan(ds, modelDir, { memoryGb: 1 });
  const c = plans.configurations['3d_fullres'];
  c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  writeFileSync(plansFile, JSON.stringify(plans));
  await train({
    dataset: ds,
    modelDir,
    config: '3d_fullres',
    fold: 0,
    epochs: 3,
    itersPerEpoch: 4,
    memoryGb: 1,
    threads: 2,
    valPatches: 1,
    validate: false,
  });
  exp = path.join(out, 'export');
  await exportModel({ modelDir, output: exp });
} else {
  // `medseg serve` wants a model folder; the page itself needs none
  modelDir = path.join(out, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, 'plans.json'), '{}');
}
const files = readdirSync(exp).map((f) => path.join(exp, f));
const threads = Number(values.threads);

const nodeTimes = [];
const ref = path.join(out, 'node.nii.gz');
for (let i = 0; i < Number(values.repeat); i++) {
  const r = await predictOnnx({ input: image, output: ref, exportDir: exp, threads });
  nodeTimes.push(r.cases[0].seconds);
}

const { chromium } = await import('playwright-core');
const server = await serveViewer({ modelDir, port: 0 });
const context = await chromium.launchPersistentContext(path.join(out, 'profile'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  acceptDownloads: true,
});
const page = context.pages()[0] ?? (await context.newPage());
const pageTimes = [];
const pipelineTimes = [];
let r;
try {
  for (let i = 0; i < Number(values.repeat); i++) {
    await page.goto(`${server.url}segment.html`);
    await page.locator('#files').setInputFiles([image, ...files]);
    await page.waitForFunction(() => ['done', 'error'].includes(globalThis.medsegSegment?.state), null, {
      timeout: 1_800_000,
    });
    r = await page.evaluate(() => globalThis.medsegSegment);
    if (r.state !== 'done') throw new Error(`page: ${r.error}`);
    pageTimes.push(r.seconds);
    pipelineTimes.push(r.segmentSeconds);
  }
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#save').click()]);
  await download.saveAs(path.join(out, 'page.nii.gz'));
} finally {
  await context.close();
  await server.close();
}
const a = (await readImage(path.join(out, 'page.nii.gz'))).data;
const b = (await readImage(ref)).data;
const labels = [...new Set(b)].filter((v) => v !== 0).sort((x, y) => x - y);
const dice = labels.map((l) => {
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
  return `${l}: ${((2 * i) / (na + nb)).toFixed(5)}`;
});
const v = await readImage(image);
console.log(
  JSON.stringify({
    image: path.basename(image),
    shape: v.shape,
    backend: r.backend,
    backendWhy: r.backendWhy,
    threads: r.threads,
    pageSeconds: pageTimes.map((t) => +t.toFixed(2)),
    pagePipelineSeconds: pipelineTimes.map((t) => +t.toFixed(2)),
    onnxruntimeNodeSeconds: nodeTimes.map((t) => +t.toFixed(2)),
    nodeThreads: threads,
    dice,
  }),
);
