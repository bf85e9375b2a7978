// An independent reference for the evaluation metrics: numpy + scipy.ndimage in /usr/bin/python3.
// Surfaces by binary_erosion (6-connected structure, border_value=0), distances by
// distance_transform_edt(sampling=spacing) over the whole image, percentiles by numpy's default.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PYTHON = process.env.MEDSEG_REF_PYTHON ?? '/usr/bin/python3';

let available: boolean | undefined;
/** True when the reference Python can import numpy and scipy.ndimage. */
export function scipyAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync(PYTHON, ['-c', 'import numpy, scipy.ndimage'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

export interface RefCase {
  /** Label maps, x fastest, shape [nx, ny, nz]. */
  pred: Int32Array;
  ref: Int32Array;
  shape: [number, number, number];
  spacing: [number, number, number];
  /** key → label values of the union. */
  targets: Record<string, number[]>;
  toleranceMm: number;
}

/** Metrics as the reference computes them; null stands for infinite. */
export type RefMetrics = Record<string, number | null>;

const SCRIPT = `
import json, sys
import numpy as np
from scipy import ndimage

d = sys.argv[1]
spec = json.load(open(d + '/in.json'))
st = ndimage.generate_binary_structure(3, 1)
results = []
for n, c in enumerate(spec):
    nx, ny, nz = c['shape']
    # x fastest on disk: numpy axes (z, y, x), so the sampling is reversed too.
    P = np.fromfile('%s/p%d.bin' % (d, n), dtype='<i4').reshape(nz, ny, nx)
    R = np.fromfile('%s/r%d.bin' % (d, n), dtype='<i4').reshape(nz, ny, nx)
    sx, sy, sz = c['spacing']
    sampling = (sz, sy, sx)
    vox = sx * sy * sz
    tol = c['tol']
    out = {}
    for key, labels in c['targets'].items():
        p = np.isin(P, labels)
        r = np.isin(R, labels)
        npv, nrv, ni = int(p.sum()), int(r.sum()), int((p & r).sum())
        m = {'predVoxels': npv, 'refVoxels': nrv, 'intersectionVoxels': ni}
        m['dice'] = 1.0 if npv + nrv == 0 else 2.0 * ni / (npv + nrv)
        m['iou'] = 1.0 if npv + nrv == 0 else ni / (npv + nrv - ni)
        if npv == 0 and nrv == 0:
            m.update(hd95=0.0, hd=0.0, assd=0.0, nsd=1.0)
        elif npv == 0 or nrv == 0:
            m.update(hd95=None, hd=None, assd=None, nsd=0.0)
        else:
            sp = p & ~ndimage.binary_erosion(p, structure=st, border_value=0)
            sr = r & ~ndimage.binary_erosion(r, structure=st, border_value=0)
            a = ndimage.distance_transform_edt(~sr, sampling=sampling)[sp]
            b = ndimage.distance_transform_edt(~sp, sampling=sampling)[sr]
            m['hd95'] = float(max(np.percentile(a, 95), np.percentile(b, 95)))
            m['hd'] = float(max(a.max(), b.max()))
            m['assd'] = float((a.sum() + b.sum()) / (a.size + b.size))
            m['nsd'] = float(((a <= tol).sum() + (b <= tol).sum()) / (a.size + b.size))
        m['predVolumeMm3'] = npv * vox
        m['refVolumeMm3'] = nrv * vox
        m['volumeDiffMm3'] = npv * vox - nrv * vox
        m['volumeDiffRel'] = (0.0 if npv == 0 else None) if nrv == 0 else (npv * vox - nrv * vox) / (nrv * vox)
        out[key] = m
    results.append(out)
json.dump(results, open(d + '/out.json', 'w'))
`;

/** Runs the reference over the cases; one result (key → metrics) per case. */
export function scipyMetrics(cases: RefCase[]): Record<string, RefMetrics>[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-eval-ref-'));
  try {
    cases.forEach((c, n) => {
      writeFileSync(
        path.join(dir, `p${n}.bin`),
        new Uint8Array(c.pred.buffer, c.pred.byteOffset, c.pred.byteLength),
      );
      writeFileSync(
        path.join(dir, `r${n}.bin`),
        new Uint8Array(c.ref.buffer, c.ref.byteOffset, c.ref.byteLength),
      );
    });
    const spec = cases.map((c) => ({
      shape: c.shape,
      spacing: c.spacing,
      targets: c.targets,
      tol: c.toleranceMm,
    }));
    writeFileSync(path.join(dir, 'in.json'), JSON.stringify(spec));
    writeFileSync(path.join(dir, 'ref.py'), SCRIPT);
    execFileSync(PYTHON, [path.join(dir, 'ref.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    return JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as Record<string, RefMetrics>[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
