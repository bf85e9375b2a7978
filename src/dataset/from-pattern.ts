// A dataset from path patterns (see pattern.ts for the syntax). When no label names are given, the
// values found in the label files become the classes ('background' for 0, 'label_N' otherwise), with a
// warning saying so: the check can then still tell an unexpected value in one case from the rest.
import { readImage } from '../io/image.js';
import { labelValueSet, parseNnunetLabels } from './labels.js';
import { matchPattern, type PatternSpec } from './pattern.js';
import type { Dataset } from './types.js';
import { scanLabel } from './voxels.js';

export async function datasetFromPattern(spec: PatternSpec): Promise<Dataset> {
  const ds = matchPattern(spec);
  if (spec.labels || ds.training.length === 0) return ds;
  const values = new Set<number>([0]);
  for (const c of ds.training) {
    try {
      for (const v of scanLabel(await readImage(c.label!)).counts.keys()) if (v >= 0) values.add(v);
    } catch {
      // An unreadable label is the check's to report, with its case.
    }
  }
  const declared: Record<string, number> = {};
  for (const v of [...values].sort((a, b) => a - b)) declared[v === 0 ? 'background' : `label_${v}`] = v;
  ds.labels = parseNnunetLabels(declared, ds.issues);
  ds.labelValues = labelValueSet(ds.labels);
  ds.issues.push({
    severity: 'warning',
    message: `no label names given: using the values found in the label files (${Object.values(declared).join(', ')})`,
  });
  return ds;
}
