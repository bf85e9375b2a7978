// Times medseg reading the shared BraTS NIfTI files against nibabel in the same run and prints the
// ratio. Run after `npx tsc -p tsconfig.json`:
//   node bench/io/read_nifti.mjs [REPEATS]      (MEDSEG_REAL_DATA overrides the data folder)
// Both sides read the files one after the other; the best of REPEATS passes over all files counts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readNifti } from '../../dist/src/io/nifti.js';
import { scaledValues } from '../../dist/src/io/values.js';

const repeats = Number(process.argv[2] ?? 3);
const root = process.env.MEDSEG_REAL_DATA ?? path.resolve('../shared/data');
const brats = path.join(root, 'brats2013-deepmedic');
if (!fs.existsSync(brats)) {
  console.log(`no BraTS data at ${brats}: set MEDSEG_REAL_DATA`);
  process.exit(0);
}
const files = fs
  .readdirSync(brats)
  .sort()
  .flatMap((c) =>
    fs
      .readdirSync(path.join(brats, c))
      .filter((f) => f.endsWith('.nii.gz'))
      .sort()
      .map((f) => path.join(brats, c, f)),
  );

async function bestOf(read) {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    for (const f of files) await read(f);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

const raw = await bestOf((f) => readNifti(f));
const float32 = await bestOf(async (f) => scaledValues(await readNifti(f), 'float32'));
// Not comparable to nibabel's serial loop, shown for what the async API allows: all files at once.
let parallel = Infinity;
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  await Promise.all(files.map((f) => readNifti(f)));
  parallel = Math.min(parallel, (performance.now() - t) / 1000);
}
const py = JSON.parse(
  execFileSync(
    '/usr/bin/python3',
    [path.resolve('bench/io/read_nifti_nibabel.py'), String(repeats), ...files],
    {
      encoding: 'utf8',
    },
  )
    .trim()
    .split('\n')
    .pop(),
);
const mb = files.reduce((s, f) => s + fs.statSync(f).size, 0) / 2 ** 20;
const fmt = (s) => `${s.toFixed(3)} s`;
console.log(
  `machine: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, node ${process.version}, nibabel ${py.nibabel}`,
);
console.log(`${files.length} BraTS files, ${mb.toFixed(1)} MiB gzip, best of ${repeats}`);
console.log(
  `stored values:  medseg ${fmt(raw)}  nibabel ${fmt(py.raw_s)}  nibabel/medseg ${(py.raw_s / raw).toFixed(2)}×`,
);
console.log(
  `float32 values: medseg ${fmt(float32)}  nibabel ${fmt(py.float32_s)}  nibabel/medseg ${(py.float32_s / float32).toFixed(2)}×`,
);
console.log(`medseg, all files concurrently: ${fmt(parallel)}`);
