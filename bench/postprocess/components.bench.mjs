// Connected-component labelling on a 300 x 512 x 512 volume (78.6M voxels), medseg against
// scipy.ndimage.label (26-connectivity) on the same bytes in the same run, plus keep-largest timings.
//   npx tsc -p tsconfig.json && node bench/postprocess/components.bench.mjs [reps]
// Prints one JSON line per measurement and a summary line with the ratios (medseg / scipy).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  labelComponents,
  keepLargestForeground,
  keepLargestPerLabel,
} from '../../dist/src/postprocess/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.MEDSEG_REF_PYTHON ?? '/usr/bin/python3';
const REPS = Number(process.argv[2] ?? 3);
const [D, H, W] = [300, 512, 512];
const N = D * H * W;

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills an ellipsoid (centre, radii in voxels) with value v, row by row. */
function ellipsoid(a, [cz, cy, cx], [rz, ry, rx], v) {
  for (let z = Math.max(0, Math.ceil(cz - rz)); z <= Math.min(D - 1, Math.floor(cz + rz)); z++) {
    const fz = 1 - ((z - cz) / rz) ** 2;
    for (let y = Math.max(0, Math.ceil(cy - ry)); y <= Math.min(H - 1, Math.floor(cy + ry)); y++) {
      const f = fz - ((y - cy) / ry) ** 2;
      if (f < 0) continue;
      const h = rx * Math.sqrt(f);
      const x0 = Math.max(0, Math.ceil(cx - h));
      const x1 = Math.min(W - 1, Math.floor(cx + h));
      if (x1 >= x0) a.fill(v, (z * H + y) * W + x0, (z * H + y) * W + x1 + 1);
    }
  }
}

/** Organ-like label map: a few large ellipsoids (labels 1-3) and 2000 small spurious blobs. */
function organs() {
  const rand = prng(1);
  const a = new Uint8Array(N);
  ellipsoid(a, [150, 256, 180], [110, 120, 90], 1);
  ellipsoid(a, [140, 250, 350], [90, 100, 70], 2);
  ellipsoid(a, [160, 250, 270], [60, 40, 30], 3); // touches 1 and 2
  ellipsoid(a, [60, 400, 420], [25, 30, 30], 1); // a second part of label 1
  for (let k = 0; k < 2000; k++) {
    const r = 1 + rand() * 4;
    ellipsoid(a, [rand() * D, rand() * H, rand() * W], [r, r, r], 1 + Math.floor(rand() * 3));
  }
  return a;
}

/** Bernoulli noise: every voxel foreground with probability p (many short runs). */
function noise(p) {
  const rand = prng(2);
  const a = new Uint8Array(N);
  for (let i = 0; i < N; i++) a[i] = rand() < p ? 1 : 0;
  return a;
}

function time(fn) {
  const t0 = performance.now();
  const r = fn();
  return { seconds: (performance.now() - t0) / 1000, r };
}

function best(fn, reps) {
  let min = Infinity;
  const all = [];
  let last;
  for (let i = 0; i < reps; i++) {
    const { seconds, r } = time(fn);
    all.push(+seconds.toFixed(4));
    min = Math.min(min, seconds);
    last = r;
  }
  return { seconds: min, all, last };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-cc-bench-'));
const summary = {};
try {
  for (const [name, make] of [
    ['organs', organs],
    ['noise10', () => noise(0.1)],
    ['noise30', () => noise(0.3)],
  ]) {
    const labels = make();
    const mask = Uint8Array.from(labels, (v) => (v ? 1 : 0));
    const file = path.join(dir, `${name}.bin`);
    writeFileSync(file, mask);
    const fg = mask.reduce((s, v) => s + v, 0);
    // medseg, scipy, medseg again: load from elsewhere hits both alike
    const a = best(() => labelComponents(mask, [D, H, W]), REPS);
    const py = JSON.parse(
      execFileSync(PYTHON, [path.join(here, 'scipy_label.py'), file, D, H, W, REPS].map(String), {
        encoding: 'utf8',
      }).trim(),
    );
    const b = best(() => labelComponents(mask, [D, H, W]), REPS);
    const ours = Math.min(a.seconds, b.seconds);
    const count = b.last.count;
    const row = {
      run: `label-${name}`,
      foreground_fraction: +(fg / N).toFixed(4),
      medseg_s: +ours.toFixed(4),
      medseg_all: [...a.all, ...b.all],
      scipy_s: +py.seconds.toFixed(4),
      scipy_all: py.all,
      ratio: +(ours / py.seconds).toFixed(3),
      components: count,
      scipy_components: py.count,
      scipy_peak_rss_mb: py.peak_rss_mb,
    };
    if (count !== py.count) throw new Error(`component counts differ: ${count} vs ${py.count}`);
    console.log(JSON.stringify(row));
    summary[name] = row.ratio;
    if (name === 'organs') {
      const f = best(() => keepLargestForeground(labels, [D, H, W]), REPS);
      console.log(
        JSON.stringify({ run: 'keepLargestForeground-organs', seconds: +f.seconds.toFixed(4), all: f.all }),
      );
      const p = best(() => keepLargestPerLabel(labels, [D, H, W]), REPS);
      console.log(
        JSON.stringify({ run: 'keepLargestPerLabel-organs', seconds: +p.seconds.toFixed(4), all: p.all }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    summary: 'medseg / scipy.ndimage.label time, 26-connectivity, 300x512x512',
    ratios: summary,
    node: process.version,
    medseg_peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
  }),
);
