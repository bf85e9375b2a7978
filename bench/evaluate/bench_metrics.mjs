// Times `evaluateCase` on a CT-sized synthetic pair (512×512×300, spacing 0.8×0.8×1.5 mm): two offset
// ellipsoids as label 1 and a small ellipsoid as label 2, against the same metrics computed with numpy
// + scipy.ndimage (distance_transform_edt with sampling) in /usr/bin/python3, both on the whole image
// (what a direct scipy script does) and cropped to the bounding box of P∪R (the same work as here).
//
//   npx tsc -p tsconfig.json && node bench/evaluate/bench_metrics.mjs [--repeat N] [--no-full]
//
// --no-full skips the whole-image scipy run (about 2.5 GB of memory and a minute on 2 cores).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { evaluateCase, squaredEdt } from '../../dist/src/evaluate/index.js';

const { values } = parseArgs({
  options: { repeat: { type: 'string', default: '3' }, 'no-full': { type: 'boolean' } },
});
const repeat = Number(values.repeat);
const PYTHON = process.env.MEDSEG_REF_PYTHON ?? '/usr/bin/python3';
const shape = [512, 512, 300];
const spacing = [0.8, 0.8, 1.5];
const TOL = 2;

/** Label 1: ellipsoid (centre, radii in mm); label 2: a small ellipsoid inside it. */
function phantom(c1, r1, c2, r2) {
  const [nx, ny, nz] = shape;
  const a = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    const z = k * spacing[2];
    for (let j = 0; j < ny; j++) {
      const y = j * spacing[1];
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        const x = i * spacing[0];
        const q1 = ((x - c1[0]) / r1[0]) ** 2 + ((y - c1[1]) / r1[1]) ** 2 + ((z - c1[2]) / r1[2]) ** 2;
        if (q1 > 1) continue;
        const q2 = ((x - c2[0]) / r2[0]) ** 2 + ((y - c2[1]) / r2[1]) ** 2 + ((z - c2[2]) / r2[2]) ** 2;
        a[row + i] = q2 <= 1 ? 2 : 1;
      }
    }
  }
  return a;
}

const t0 = performance.now();
const ref = phantom([205, 205, 225], [100, 80, 120], [230, 190, 250], [15, 12, 18]);
const pred = phantom([211, 201, 228], [96, 84, 115], [233, 193, 246], [14, 13, 16]);
console.log(`phantoms ${shape.join('×')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const vol = (data) => ({ data, shape, spacing });
/** Wall and CPU seconds of fn, best of `repeat` runs (the machine is shared: CPU time is steadier). */
function timed(fn) {
  let wall = Infinity;
  let cpu = Infinity;
  let result;
  for (let r = 0; r < repeat; r++) {
    const s = performance.now();
    const c = process.cpuUsage();
    result = fn();
    const u = process.cpuUsage(c);
    wall = Math.min(wall, (performance.now() - s) / 1000);
    cpu = Math.min(cpu, (u.user + u.system) / 1e6);
  }
  return { wall, cpu, result };
}
const js = timed(() => evaluateCase(vol(pred), vol(ref), { toleranceMm: TOL }));
const metrics = js.result;
const jsBest = js.wall;
console.log(
  `medseg evaluateCase (labels 1, 2): best of ${repeat}: ${js.wall.toFixed(3)} s wall, ${js.cpu.toFixed(3)} s CPU`,
);
for (const [k, m] of Object.entries(metrics)) {
  console.log(
    `  label ${k}: dice ${m.dice.toFixed(6)} hd95 ${m.hd95.toFixed(6)} nsd ${m.nsd.toFixed(6)} assd ${m.assd.toFixed(6)}`,
  );
}

// The EDT alone on the box of label 1 (features: the reference's surface), against scipy's on the same box.
const [nx, ny] = shape;
let box = [Infinity, -1, Infinity, -1, Infinity, -1];
for (let idx = 0; idx < ref.length; idx++) {
  if (!ref[idx] && !pred[idx]) continue;
  const i = idx % nx;
  const j = Math.floor(idx / nx) % ny;
  const k = Math.floor(idx / (nx * ny));
  box = [
    Math.min(box[0], i),
    Math.max(box[1], i),
    Math.min(box[2], j),
    Math.max(box[3], j),
    Math.min(box[4], k),
    Math.max(box[5], k),
  ];
}
const bd = [box[1] - box[0] + 1, box[3] - box[2] + 1, box[5] - box[4] + 1];
const crop = new Uint8Array(bd[0] * bd[1] * bd[2]);
for (let k = 0, t = 0; k < bd[2]; k++) {
  for (let j = 0; j < bd[1]; j++) {
    for (let i = 0; i < bd[0]; i++, t++)
      crop[t] = ref[box[0] + i + nx * (box[2] + j + ny * (box[4] + k))] ? 0 : 1;
  }
}
// Features = background of the crop: the distance of every voxel inside the reference to its outside.
const edt = timed(() => squaredEdt(crop, bd, spacing));
const edtBest = edt.wall;
console.log(
  `medseg squaredEdt on the ${bd.join('×')} box: ${edt.wall.toFixed(3)} s wall, ${edt.cpu.toFixed(3)} s CPU`,
);

const SCRIPT = `
import json, sys, time
import numpy as np
from scipy import ndimage
d, full = sys.argv[1], sys.argv[2] == '1'
nx, ny, nz = ${JSON.stringify(shape)}
sx, sy, sz = ${JSON.stringify(spacing)}
sampling = (sz, sy, sx)
P = np.fromfile(d + '/pred.bin', dtype=np.uint8).reshape(nz, ny, nx)
R = np.fromfile(d + '/ref.bin', dtype=np.uint8).reshape(nz, ny, nx)
st = ndimage.generate_binary_structure(3, 1)
def metrics(p, r, tol):
    sp = p & ~ndimage.binary_erosion(p, structure=st, border_value=0)
    sr = r & ~ndimage.binary_erosion(r, structure=st, border_value=0)
    a = ndimage.distance_transform_edt(~sr, sampling=sampling)[sp]
    b = ndimage.distance_transform_edt(~sp, sampling=sampling)[sr]
    ni, n = (p & r).sum(), p.sum() + r.sum()
    return dict(dice=float(2 * ni / n), hd95=float(max(np.percentile(a, 95), np.percentile(b, 95))),
                nsd=float(((a <= tol).sum() + (b <= tol).sum()) / (a.size + b.size)), assd=float((a.sum() + b.sum()) / (a.size + b.size)))
def crop(p, r):
    idx = np.nonzero(p | r)
    sl = tuple(slice(i.min(), i.max() + 1) for i in idx)
    return p[sl], r[sl]
out = {}
for mode in (['full', 'crop'] if full else ['crop']):
    t = time.perf_counter()
    c = time.process_time()
    res = {}
    for label in (1, 2):
        p, r = P == label, R == label
        if mode == 'crop':
            p, r = crop(p, r)
        res[str(label)] = metrics(p, r, ${TOL})
    out[mode] = dict(seconds=time.perf_counter() - t, cpu=time.process_time() - c, metrics=res)
b = ${JSON.stringify(box)}
c = R[b[4]:b[5] + 1, b[2]:b[3] + 1, b[0]:b[1] + 1] != 0
t = time.perf_counter()
t0 = time.process_time()
ndimage.distance_transform_edt(c, sampling=sampling)
out['edt'] = dict(seconds=time.perf_counter() - t, cpu=time.process_time() - t0)
print(json.dumps(out))
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-bench-eval-'));
try {
  fs.writeFileSync(path.join(dir, 'pred.bin'), pred);
  fs.writeFileSync(path.join(dir, 'ref.bin'), ref);
  fs.writeFileSync(path.join(dir, 'ref.py'), SCRIPT);
  const py = JSON.parse(
    execFileSync(PYTHON, [path.join(dir, 'ref.py'), dir, values['no-full'] ? '0' : '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    }),
  );
  const versions = execFileSync(
    PYTHON,
    ['-c', 'import numpy, scipy; print(numpy.__version__, scipy.__version__)'],
    {
      encoding: 'utf8',
    },
  ).trim();
  console.log(`scipy reference (numpy ${versions.replace(' ', ', scipy ')}):`);
  for (const mode of ['full', 'crop']) {
    if (!py[mode]) continue;
    const { seconds: s, cpu } = py[mode];
    let diff = 0;
    for (const [k, m] of Object.entries(py[mode].metrics)) {
      for (const key of ['dice', 'hd95', 'nsd', 'assd'])
        diff = Math.max(diff, Math.abs(m[key] - metrics[k][key]));
    }
    console.log(
      `  ${mode === 'full' ? 'whole image   ' : 'cropped to box'}: ${s.toFixed(3)} s wall, ${cpu.toFixed(3)} s CPU; ` +
        `scipy/medseg ${(s / jsBest).toFixed(1)}× wall, ${(cpu / js.cpu).toFixed(1)}× CPU; max |metric difference| ${diff.toExponential(1)}`,
    );
  }
  console.log(
    `  distance_transform_edt on the same ${bd.join('×')} box: ${py.edt.seconds.toFixed(3)} s wall, ${py.edt.cpu.toFixed(3)} s CPU; ` +
      `scipy/medseg ${(py.edt.seconds / edtBest).toFixed(1)}× wall, ${(py.edt.cpu / edt.cpu).toFixed(1)}× CPU`,
  );
  console.log(
    JSON.stringify({
      shape,
      spacing,
      box: bd,
      medseg: { wall: js.wall, cpu: js.cpu },
      medsegEdt: { wall: edt.wall, cpu: edt.cpu },
      scipyFull: py.full ? { wall: py.full.seconds, cpu: py.full.cpu } : null,
      scipyCrop: { wall: py.crop.seconds, cpu: py.crop.cpu },
      scipyEdt: { wall: py.edt.seconds, cpu: py.edt.cpu },
      loadAverage: os.loadavg()[0],
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
