// In-browser segmentation in real headless Chromium (Debian's chromium, driven by playwright-core):
// a tiny model is trained and exported here, the page (dist-web/segment.html, served by `medseg
// serve`) is given an image and the export's files, onnxruntime-web segments the image in the page,
// and the label map the page saves as NIfTI must equal the Node prediction of the same export
// (predictOnnx, onnxruntime-node): same geometry, Dice ≥ 0.99 per label. Then each bad input gets
// its one message in the page: a file that is not NIfTI, an image with another channel count, a
// truncated ONNX file, and a volume over the page's memory budget. Every request stays on the server.
// Cases: the synthetic image (export picked as a folder), the same mirrored, and the shared spleen CT
// when MEDSEG_REAL_DATA has it. Measured on the shared 2-core VM (loaded): every label map equal to
// Node's but 1 voxel of 707 824 (spleen CT), 2–4 s (synthetic) and 14–20 s (spleen CT) in the page.
// Last, `medseg serve MODEL.medseg` serves the package's model folder, cross-origin isolated.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readImage, writeImage } from '../../src/io/image.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { train } from '../../src/crossval/train.js';
import { exportModel } from '../../src/export/exportModel.js';
import { readManifest } from '../../src/export/manifest.js';
import { predictOnnx } from '../../src/deploy/predictOnnx.js';
import { defaultAssetsDir, serveViewer } from '../../src/web/index.js';
import { packageModel } from '../../src/transfer/package.js';
import { realDataDir } from '../io/helpers.js';
import { MEDSEG } from '../cli/run.js';

// The callbacks of page.evaluate run in the page; this project compiles without the DOM typings.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Page = any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SPLEEN_CT = 'msd-spleen-crop/sub-spleen2/ct/sub-spleen2_ct.nii.gz';

async function skipReason(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not installed (scripts/setup.sh --dev installs chromium)`;
  if (!existsSync(path.join(defaultAssetsDir(), 'segment.html')))
    return 'segmentation page not built (npm run build:web)';
  if (!(await import('onnxruntime-node').catch(() => null))) return 'onnxruntime-node is not installed';
  return undefined;
}

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

interface PageResult {
  state: string;
  error?: string;
  backend?: string;
  threads?: number;
  segmentSeconds?: number;
  backendWhy?: string;
  seconds?: number;
  counts?: Record<string, number>;
}

/** A tiny model trained here (seconds) and its ONNX export; made once for the tests of this file. */
let made: Promise<{ root: string; ds: string; model: string; exp: string }> | undefined;
const tinyExport = () => (made ??= makeTinyExport());
after(async () => {
  if (made) rmSync((await made).root, { recursive: true, force: true });
});

async function makeTinyExport() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-segment-page-'));
  // a tiny trained model (seconds) and its export
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
  await exportModel({ modelDir: model, output: exp });
  return { root, ds, model, exp };
}

test(
  'the page segments a volume with onnxruntime-web as predict -m EXPORT_DIR does; bad input gets one message each',
  { timeout: 600_000 },
  async (t) => {
    const why = await skipReason();
    if (why) return t.skip(why);
    const { chromium } = await import('playwright-core');
    const { root, ds, model, exp } = await tinyExport();
    const m = readManifest(exp);
    const exportFiles = readdirSync(exp).map((f) => path.join(exp, f));
    const images = path.join(ds, 'imagesTr');
    const synthetic = path.join(images, readdirSync(images).sort()[0]!);
    // the synthetic case plain and mirrored (test-time augmentation), then the shared real CT
    const volumes = [
      { image: synthetic, mirror: false },
      { image: synthetic, mirror: true },
    ];
    if (existsSync(path.join(realDataDir, SPLEEN_CT)))
      volumes.push({ image: path.join(realDataDir, SPLEEN_CT), mirror: false });
    else t.diagnostic(`real data not found at ${realDataDir} (MEDSEG_REAL_DATA): synthetic volume only`);

    const server = await serveViewer({ modelDir: model, port: 0 });
    const context = await chromium.launchPersistentContext(path.join(root, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      acceptDownloads: true,
      viewport: { width: 1100, height: 800 },
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const foreign: string[] = [];
    await page.route('**/*', (route: Page) => {
      const url = route.request().url();
      if (url.startsWith(server.url) || url.startsWith('data:') || url.startsWith('blob:'))
        return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(e.message));
    /** Loads the page, gives it `files` (and an export `folder` through the folder picker), waits for the run. */
    const runPage = async (files: string[], query = '', folder?: string): Promise<PageResult> => {
      await page.goto(`${server.url}segment.html${query}`);
      await page.locator('#files').setInputFiles(files);
      if (folder) await page.locator('#folder').setInputFiles(folder);
      await page.waitForFunction(
        () => ['done', 'error'].includes((globalThis as Page).medsegSegment?.state),
        null,
        { timeout: 300_000 },
      );
      return page.evaluate(() => (globalThis as Page).medsegSegment);
    };
    const expectMessage = async (files: string[], pattern: RegExp, query = '') => {
      const r = await runPage(files, query);
      const shown = (await page.locator('#status').textContent()) ?? '';
      t.diagnostic(`message: ${shown}`);
      assert.equal(r.state, 'error', `expected an error, got ${JSON.stringify(r)}`);
      assert.equal(shown, r.error ?? '');
      assert.match(shown, pattern);
      assert.equal(await page.locator('#status').getAttribute('class'), 'error');
    };
    try {
      for (const { image, mirror } of volumes) {
        const name = path.basename(image).replace(/\.nii(\.gz)?$/, '');
        const id = `${name}${mirror ? ' (mirrored)' : ''}`;
        const ref = path.join(root, `node-${name}-${mirror}.nii.gz`);
        await predictOnnx({ input: image, output: ref, exportDir: exp, threads: 2, mirror });
        // the first run picks the export as a folder, the others as files beside the image
        const r =
          image === synthetic && !mirror
            ? await runPage([image], '', exp)
            : await runPage([image, ...exportFiles], mirror ? '?mirror=1' : '');
        assert.equal(r.state, 'done', `page error: ${r.error}`);
        t.diagnostic(
          `${id}: ${r.seconds!.toFixed(2)} s in the page (pipeline ${r.segmentSeconds!.toFixed(2)} s) on ${r.backend}, ${r.threads} thread(s) (${r.backendWhy}); voxels per label ${JSON.stringify(r.counts)}`,
        );
        assert.match((await page.locator('#time').textContent()) ?? '', /segmented in \d+\.\d s/);
        assert.match((await page.locator('#backend').textContent()) ?? '', /ran on: (WebAssembly|WebGPU)/);
        // the saved NIfTI against the Node prediction
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#save').click()]);
        assert.equal(download.suggestedFilename(), `${name}_seg.nii.gz`);
        const saved = path.join(root, `page-${name}-${mirror}.nii.gz`);
        await download.saveAs(saved);
        const a = await readImage(saved);
        const b = await readImage(ref);
        const src = await readImage(image);
        assert.equal(a.header?.format, 'nifti1');
        assert.deepEqual(a.shape, b.shape);
        assert.deepEqual(a.shape, src.shape.slice(0, 3));
        assert.equal(a.datatype, b.datatype);
        for (let r0 = 0; r0 < 4; r0++)
          for (let c0 = 0; c0 < 4; c0++)
            assert.ok(Math.abs(a.affine[r0]![c0]! - b.affine[r0]![c0]!) < 1e-4, 'affine');
        let differ = 0;
        for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) differ++;
        for (const label of m.labelValues.slice(1)) {
          const d = dice(a.data as Uint8Array, b.data as Uint8Array, label);
          let n = 0;
          for (let i = 0; i < b.data.length; i++) if (b.data[i] === label) n++;
          t.diagnostic(`${id}: label ${label}: Dice ${d.toFixed(5)} (${n} voxels in the Node prediction)`);
          assert.ok(d >= 0.99, `${id}: label ${label} Dice ${d}`);
        }
        t.diagnostic(`${id}: ${differ} of ${a.data.length} voxels differ`);
        // the counts the page reports are those of the map it saved
        for (const [v, n] of Object.entries(r.counts!))
          assert.equal(n, Array.from(a.data as Uint8Array).filter((x) => x === Number(v)).length);
      }
      const image = synthetic;
      // 1. a file that is not NIfTI
      const notNifti = path.join(root, 'notes.nii.gz');
      writeFileSync(notNifti, 'these are notes, not an image\n');
      await expectMessage([notNifti, ...exportFiles], /notes\.nii\.gz: not a NIfTI file/);
      // 2. an image with two channels for a one-channel model
      const v = await readImage(image);
      const two = path.join(root, 'two_channels.nii.gz');
      const n = v.data.length;
      const data = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) data[i] = data[n + i] = Number(v.data[i]);
      await writeImage(two, {
        ...v,
        header: undefined,
        shape: [...v.shape.slice(0, 3), 2],
        data,
        datatype: 'float32',
        sclSlope: 1,
        sclInter: 0,
      });
      await expectMessage(
        [two, ...exportFiles],
        /two_channels\.nii\.gz: 2 channel\(s\), but the model takes 1/,
      );
      // 3. a truncated ONNX file (the export's own, cut in half)
      const cut = path.join(root, 'cut');
      mkdirSync(cut);
      for (const f of exportFiles) copyFileSync(f, path.join(cut, path.basename(f)));
      const onnx = readdirSync(cut).find((f) => f.endsWith('.onnx'))!;
      const bytes = readFileSync(path.join(cut, onnx));
      writeFileSync(path.join(cut, onnx), bytes.subarray(0, bytes.length >> 1));
      await expectMessage(
        [image, ...readdirSync(cut).map((f) => path.join(cut, f))],
        new RegExp(`${onnx.replace('.', '\\.')}: not a complete ONNX model`),
      );
      // 4. over the page's memory budget (1 MiB here): a message before the volume is allocated
      await expectMessage(
        [image, ...exportFiles],
        /needs about .* in this page, more than its 1\.0 MiB budget/,
        '?budgetMB=1',
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, [], 'the page reached outside the server');
    } finally {
      await context.close();
      await server.close();
    }
  },
);

test(
  'medseg serve takes a .medseg package as it takes a model folder; its pages are cross-origin isolated',
  { timeout: 300_000 },
  async (t) => {
    const why = await skipReason();
    if (why) return t.skip(why);
    const { root, ds, model } = await tinyExport();
    const pkg = path.join(root, 'tiny.medseg');
    await packageModel({ modelDir: model, output: pkg, dataset: ds });
    const child = spawn(process.execPath, [MEDSEG, 'serve', pkg, '--port', '0'], {
      env: { ...process.env, MEDSEG_CACHE: path.join(root, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL from medseg serve: ${output}`)), 120_000);
        const read = (b: Buffer) => {
          output += b.toString();
          const hit = /medseg serve: (http:\/\/\S+)/.exec(output);
          if (hit) {
            clearTimeout(timer);
            resolve(hit[1]!);
          }
        };
        child.stdout!.on('data', read);
        child.stderr!.on('data', read);
        child.once('exit', (code) => reject(new Error(`medseg serve exited (${code}): ${output}`)));
      });
      t.diagnostic(output.trim());
      // the model folder served is the package's: its plans.json as packaged
      const plans = await fetch(`${url}files/model/plans.json`);
      assert.equal(plans.status, 200);
      assert.deepEqual(await plans.json(), JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8')));
      assert.equal((await fetch(`${url}api/catalog.json`)).status, 200);
      const page = await fetch(`${url}segment.html`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
      const wasm = await fetch(`${url}ort/ort-wasm-simd-threaded.jsep.wasm`, { method: 'HEAD' });
      assert.equal(wasm.status, 200);
      assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  },
);
