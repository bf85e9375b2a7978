// Preprocessing of the shared BraTS cases — read 2 channels + label, crop to the non-zero box,
// z-score each channel inside the brain, resample to 1.5 mm (images linear, labels nearest) — with
// medseg, and the equivalent nibabel + scipy script (preprocess_brats.py) in the same run.
//   node bench/preprocess/preprocess_brats.mjs [repetitions]      (after npm run build)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../dist/src/io/index.js';
import { tidy, setThreads } from '../../dist/src/engine/index.js';
import {
  arraySpacing,
  channelsToTensor,
  labelsToTensor,
  preprocessCase,
} from '../../dist/src/preprocess/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = process.env.MEDSEG_REAL_DATA ?? path.resolve(here, '../../../shared/data');
const root = path.join(data, 'brats2013-deepmedic');
const cases = ['pat0003', 'pat0004', 'pat0005', 'pat0006'].map((p) => path.join(root, `brats_2013_${p}_1`));
const reps = Number(process.argv[2] ?? 3);
setThreads(2);

async function medsegOnce() {
  const t0 = performance.now();
  let voxels = 0;
  const read = (dir) =>
    Promise.all(
      ['Flair_subtrMeanDivStd.nii.gz', 'T1c_subtrMeanDivStd.nii.gz', 'OTMultiClass.nii.gz'].map((f) =>
        readImage(path.join(dir, f)),
      ),
    );
  // the next case is read (gunzip on libuv's threads) while this one is preprocessed
  let next = read(cases[0]);
  for (let i = 0; i < cases.length; i++) {
    const [flair, t1c, lab] = await next;
    if (i + 1 < cases.length) next = read(cases[i + 1]);
    tidy(() => {
      const p = preprocessCase(channelsToTensor([flair, t1c]), labelsToTensor(lab), arraySpacing(flair), {
        targetSpacing: [1.5, 1.5, 1.5],
        normalization: [
          { scheme: 'zscore', useMask: true },
          { scheme: 'zscore', useMask: true },
        ],
        labelInterpolation: 'nearest',
        numClasses: 5,
      });
      voxels += p.image.numel;
      return null;
    });
  }
  return { seconds: (performance.now() - t0) / 1000, voxels };
}

const rows = [];
for (let r = 0; r < reps; r++) {
  const m = await medsegOnce();
  const py = JSON.parse(
    execFileSync('/usr/bin/python3', [path.join(here, 'preprocess_brats.py'), ...cases], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  );
  rows.push({
    medseg_s: +m.seconds.toFixed(3),
    nibabel_scipy_s: +py.seconds.toFixed(3),
    ratio: +(py.seconds / m.seconds).toFixed(2),
    voxels: m.voxels,
    py_voxels: py.voxels,
  });
  console.log(JSON.stringify(rows[rows.length - 1]));
}
const best = (k) => Math.min(...rows.map((r) => r[k]));
console.log(
  JSON.stringify({
    best_medseg_s: best('medseg_s'),
    best_nibabel_scipy_s: best('nibabel_scipy_s'),
    speedup: +(best('nibabel_scipy_s') / best('medseg_s')).toFixed(2),
  }),
);
