// The viewer in real headless Chromium (Debian's chromium, driven by playwright-core): `medseg serve`
// over a model folder whose out-of-fold "prediction" is the manual spleen mask of the shared MSD
// spleen crop, and whose dataset holds the CT. The screenshot of the Niivue canvas must show the
// prediction's colour (label 1: red) where the spleen lies on the displayed slice, and nowhere else.
// The expected place is computed here from the NIfTI header and voxels (medseg's reader), not from
// Niivue: the slice with the most spleen, its centroid in RAS+ mm, mapped onto the canvas tile the
// way a 2D viewer in neurological convention fits a slice (right → screen right, anterior → up,
// uniform scale, centred). Every request the page makes must go to the server (works offline).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readImage } from '../../src/io/image.js';
import { defaultAssetsDir, serveViewer } from '../../src/web/index.js';
import { realDataDir } from '../io/helpers.js';

// The callbacks of page.evaluate run in the page; this project compiles without the DOM typings.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Page = any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu', // WebGL2 then runs on SwiftShader (ANGLE over its Vulkan), enough for Niivue
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SPLEEN = 'msd-spleen-crop';
const IMAGE = `${SPLEEN}/sub-spleen2/ct/sub-spleen2_ct.nii.gz`;
const LABEL = `${SPLEEN}/derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz`;

function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not installed (scripts/setup.sh --dev installs chromium)`;
  if (!existsSync(path.join(defaultAssetsDir(), 'index.html')))
    return 'viewer page not built (npm run build:web)';
  if (!existsSync(path.join(realDataDir, IMAGE)))
    return `real data not found at ${realDataDir} (MEDSEG_REAL_DATA)`;
  return undefined;
}

/** Where the slice of the label with the most foreground should appear, as fractions of the tile. */
async function expectedPlacement(labelFile: string, tile: number[]) {
  const v = await readImage(labelFile);
  const [nx, ny, nz] = v.shape as [number, number, number];
  let best = { z: 0, n: -1, si: 0, sj: 0 };
  for (let z = 0; z < nz; z++) {
    let n = 0;
    let si = 0;
    let sj = 0;
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++)
        if (Number(v.data[i + nx * (j + ny * z)]) > 0) {
          n++;
          si += i;
          sj += j;
        }
    if (n > best.n) best = { z, n, si, sj };
  }
  const A = v.affine;
  const mm = (i: number, j: number, k: number) =>
    [0, 1].map((r) => A[r]![0]! * i + A[r]![1]! * j + A[r]![2]! * k + A[r]![3]!);
  const [cx, cy] = mm(best.si / best.n, best.sj / best.n, best.z) as [number, number];
  const corners = [-0.5, nx - 0.5].flatMap((i) => [-0.5, ny - 0.5].map((j) => mm(i, j, best.z)));
  const xs = corners.map((c) => c[0]!);
  const ys = corners.map((c) => c[1]!);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const [, , W, H] = tile as [number, number, number, number];
  const scale = Math.min(W / (x1 - x0), H / (y1 - y0)); // screen pixels per mm
  const left = (W - (x1 - x0) * scale) / 2;
  const top = (H - (y1 - y0) * scale) / 2;
  return {
    x: (left + (cx - x0) * scale) / W,
    y: (top + (y1 - cy) * scale) / H,
    pixels: best.n * v.spacing[0] * v.spacing[1] * scale * scale,
  };
}

test(
  'the viewer draws the prediction overlay over the image where the spleen is',
  { timeout: 180_000 },
  async (t) => {
    const why = skipReason();
    if (why) return t.skip(why);
    const { chromium } = await import('playwright-core');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'medseg-viewer-'));
    const model = path.join(tmp, 'model');
    const data = path.join(tmp, 'data');
    const validation = path.join(model, '3d_fullres', 'fold_0', 'validation');
    mkdirSync(validation, { recursive: true });
    mkdirSync(path.join(data, 'imagesTr'), { recursive: true });
    writeFileSync(path.join(model, 'plans.json'), JSON.stringify({ labelValues: [0, 1] }));
    writeFileSync(path.join(data, 'dataset.json'), JSON.stringify({ labels: { background: 0, spleen: 1 } }));
    // copies, not links: the server refuses links that lead out of its folders
    copyFileSync(path.join(realDataDir, IMAGE), path.join(data, 'imagesTr', 'spleen2_0000.nii.gz'));
    copyFileSync(path.join(realDataDir, LABEL), path.join(validation, 'spleen2.nii.gz'));
    // a training log and a recorded evaluation, for the metrics table and the curves
    const log = [0, 1, 2].map((epoch) => ({
      epoch,
      train_loss: 1 - epoch / 4,
      val_dice: [0.5 + epoch / 10],
      val_mean_dice: 0.5 + epoch / 10,
      ema_dice: 0.5 + epoch / 20,
      lr: 0.01 / (epoch + 1),
      seconds: 10 + epoch,
    }));
    writeFileSync(
      path.join(model, '3d_fullres', 'fold_0', 'log.jsonl'),
      log.map((r) => JSON.stringify(r)).join('\n'),
    );
    mkdirSync(path.join(model, 'evaluations'));
    const metrics = { '1': { dice: 0.913, hd95: 2.5, nsd: 0.97 } };
    writeFileSync(
      path.join(model, 'evaluations', 'val.json'),
      JSON.stringify({
        predDir: validation,
        refDir: validation,
        report: {
          cases: [{ case: 'spleen2', metrics }],
          keys: ['1'],
          mean: metrics,
          toleranceMm: 2,
          unmatched: { pred: [], ref: [] },
          warnings: [],
        },
      }),
    );
    // a cascade: stage 1 (3d_lowres) and stage 2 predictions of the same case
    for (const c of ['3d_lowres', '3d_cascade_crop']) {
      mkdirSync(path.join(model, c, 'fold_0', 'validation'), { recursive: true });
      copyFileSync(
        path.join(realDataDir, LABEL),
        path.join(model, c, 'fold_0', 'validation', 'spleen2.nii.gz'),
      );
    }
    // a case whose prediction file is not NIfTI: the page must say so, not hang or go blank silently
    writeFileSync(path.join(validation, 'zbroken.nii.gz'), 'this is not a NIfTI file');
    const server = await serveViewer({ modelDir: model, dataDir: data, port: 0 });
    const context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1100, height: 800 },
      deviceScaleFactor: 1,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const foreign: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(server.url) || url.startsWith('data:') || url.startsWith('blob:'))
          return route.continue();
        foreign.push(url);
        return route.abort();
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => (globalThis as Page).medsegViewer?.ready === true, null, {
        timeout: 120_000,
      });
      const state = (await page.evaluate(() => (globalThis as Page).medsegViewer)) as {
        error?: string;
        caseId?: string;
        tile?: number[];
        canvas?: { width: number; height: number };
      };
      assert.equal(state.error, undefined, `page error: ${state.error}`);
      assert.equal(state.caseId, 'spleen2');
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, [], 'the page reached outside the server');
      assert.equal(await page.locator('#legend').textContent(), 'spleen');
      const shot = await page.locator('#gl').screenshot();
      writeFileSync(path.join(tmp, 'shot.png'), shot);
      // the browser's own PNG decoder reads the screenshot back; red = prediction over grey CT
      const stats = async (png: Buffer) =>
        page.evaluate(async (b64: string) => {
          const w = globalThis as Page;
          const img = new w.Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const c = w.document.createElement('canvas');
          c.width = img.width;
          c.height = img.height;
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data as Uint8ClampedArray;
          let n = 0;
          let sx = 0;
          let sy = 0;
          let grey = 0;
          for (let y = 0; y < c.height; y++)
            for (let x = 0; x < c.width; x++) {
              const [r, gg, b] = [
                d[4 * (y * c.width + x)]!,
                d[4 * (y * c.width + x) + 1]!,
                d[4 * (y * c.width + x) + 2]!,
              ];
              if (r - gg > 80 && Math.abs(gg - b) < 12) {
                n++;
                sx += x;
                sy += y;
              } else if (Math.abs(r - gg) < 8 && Math.abs(gg - b) < 8 && r > 40) grey++;
            }
          return {
            width: c.width,
            height: c.height,
            red: n,
            x: sx / n / c.width,
            y: sy / n / c.height,
            grey,
          };
        }, png.toString('base64'));
      const seen = await stats(shot);
      const tile = state.tile!;
      assert.deepEqual([seen.width, seen.height], [state.canvas!.width, state.canvas!.height]);
      const expected = await expectedPlacement(path.join(validation, 'spleen2.nii.gz'), tile);
      t.diagnostic(
        `red pixels ${seen.red} (expected ≈ ${expected.pixels.toFixed(0)}), centroid ` +
          `(${seen.x.toFixed(3)}, ${seen.y.toFixed(3)}) vs (${expected.x.toFixed(3)}, ${expected.y.toFixed(3)}) of the tile`,
      );
      assert.ok(seen.grey > 0.2 * seen.width * seen.height, `the CT is drawn in grey (${seen.grey} px)`);
      assert.ok(
        Math.abs(seen.red / expected.pixels - 1) < 0.2,
        `overlay area ${seen.red} vs ${expected.pixels}`,
      );
      assert.ok(Math.abs(seen.x - expected.x) < 0.02, `overlay x ${seen.x} vs ${expected.x}`);
      assert.ok(Math.abs(seen.y - expected.y) < 0.02, `overlay y ${seen.y} vs ${expected.y}`);
      // the prediction checkbox hides the overlay: no red remains
      await page.locator('#showPred').uncheck();
      await page.evaluate(
        () =>
          new Promise((r) =>
            (globalThis as Page).requestAnimationFrame(() => (globalThis as Page).requestAnimationFrame(r)),
          ),
      );
      const hidden = await stats(await page.locator('#gl').screenshot());
      assert.ok(hidden.red < 0.01 * seen.red, `overlay hidden: ${hidden.red} red px left`);
      // the recorded evaluation's metrics and the four training panels
      assert.match((await page.locator('#metrics').textContent()) ?? '', /valspleen0\.9132\.5000\.970/);
      assert.deepEqual(await page.locator('#training figcaption').allTextContents(), [
        'training loss',
        'validation pseudo-Dice',
        'learning rate',
        'epoch time (s)',
      ]);
      // stage 2 of the cascade gets stage 1 beside it, drawn with the overlay too
      assert.equal(await page.locator('#stage1Figure').isHidden(), true);
      await page.locator('#showPred').check();
      await page.locator('#prediction').selectOption({ label: '3d_cascade_crop fold 0' });
      await page.waitForFunction(() => (globalThis as Page).medsegViewer?.ready === true, null, {
        timeout: 60_000,
      });
      assert.equal(await page.locator('#stage1Figure').isHidden(), false);
      const stage1 = await stats(await page.locator('#gl1').screenshot());
      assert.ok(Math.abs(stage1.red / expected.pixels - 1) < 0.1, `stage 1 overlay area ${stage1.red}`);
      // the broken case: one clear message in the page
      await page.goto(`${server.url}?case=zbroken`);
      await page.waitForFunction(() => (globalThis as Page).medsegViewer?.ready === true, null, {
        timeout: 60_000,
      });
      const broken = (await page.evaluate(() => (globalThis as Page).medsegViewer)) as { error?: string };
      const shown = (await page.locator('#status').textContent()) ?? '';
      t.diagnostic(`broken case: ${shown}`);
      assert.ok(broken.error, 'the broken case reports an error');
      assert.match(shown, /zbroken/);
      assert.equal(await page.locator('#status').getAttribute('class'), 'error');
    } finally {
      await context.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
