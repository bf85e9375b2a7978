// The dataset check: everything that would make training fail late or learn the wrong thing, found
// before training starts and reported all at once, case by case. Per case it reads each file once,
// compares grids and geometry with the case's first channel, scans label values and image values;
// across cases it compares spacings with the dataset median.
import path from 'node:path';
import { readImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import {
  affineMismatch,
  anisotropy,
  defaultTolerance,
  formatShape,
  formatSpacing,
  medianSpacing,
  type GeometryTolerance,
} from './geometry.js';
import { rel } from './paths.js';
import { readDataset } from './read.js';
import { formatReport } from './report.js';
import type { Dataset, DatasetCase } from './types.js';
import { countNonFinite, scanLabel } from './voxels.js';

export interface CheckOptions {
  tolerance?: GeometryTolerance;
  /** Warn when the largest spacing exceeds the smallest by more than this factor (default 10). */
  maxAnisotropy?: number;
  /** Warn when a spacing differs from the dataset median by more than this factor (default 2). */
  spacingOutlierFactor?: number;
  /** Also check the test images (default true). */
  includeTest?: boolean;
  /** Called after each case, e.g. for progress output. */
  onCase?: (report: CaseReport, done: number, total: number) => void;
}

export interface CaseReport {
  id: string;
  split: 'training' | 'test';
  errors: string[];
  warnings: string[];
  shape?: number[];
  spacing?: [number, number, number];
  /** Label value → voxel count. */
  labelCounts?: Record<string, number>;
}

export interface CheckResult {
  ok: boolean;
  root: string;
  /** Absent when dataset.json could not be read at all. */
  dataset?: Dataset;
  /** Dataset-wide problems (dataset.json, layout, label declarations). */
  errors: string[];
  warnings: string[];
  cases: CaseReport[];
  errorCount: number;
  warningCount: number;
  /** Human-readable report of all of the above. */
  report: string;
}

/** Checks a dataset folder (MSD or nnU-Net v2) or an already read Dataset (e.g. from a pattern). */
export async function checkDataset(source: string | Dataset, opts: CheckOptions = {}): Promise<CheckResult> {
  let dataset: Dataset;
  try {
    dataset = typeof source === 'string' ? await readDataset(source) : source;
  } catch (e) {
    const root = path.resolve(source as string);
    return finish({ root, errors: [(e as Error).message], warnings: [], cases: [] });
  }
  const errors: string[] = [];
  const warnings: string[] = [];
  const byCase = new Map<string, CaseReport>();
  const reportFor = (id: string, split: CaseReport['split']): CaseReport => {
    let r = byCase.get(id);
    if (!r) byCase.set(id, (r = { id, split, errors: [], warnings: [] }));
    return r;
  };
  const testIds = new Set(dataset.test.map((c) => c.id));
  for (const issue of dataset.issues) {
    if (issue.caseId === undefined) (issue.severity === 'error' ? errors : warnings).push(issue.message);
    else {
      const r = reportFor(
        issue.caseId,
        testIds.has(issue.caseId) || issue.message.startsWith('test:') ? 'test' : 'training',
      );
      (issue.severity === 'error' ? r.errors : r.warnings).push(issue.message);
    }
  }
  if (dataset.training.length === 0) errors.push('no complete training case');

  const todo: [DatasetCase, CaseReport['split']][] = [
    ...dataset.training.map((c) => [c, 'training'] as [DatasetCase, CaseReport['split']]),
    ...(opts.includeTest === false
      ? []
      : dataset.test.map((c) => [c, 'test'] as [DatasetCase, CaseReport['split']])),
  ];
  const seenValues = new Set<number>();
  let done = 0;
  for (const [c, split] of todo) {
    const r = reportFor(c.id, split);
    await checkCase(dataset, c, r, opts);
    for (const v of Object.keys(r.labelCounts ?? {})) seenValues.add(Number(v));
    opts.onCase?.(r, ++done, todo.length);
  }

  // Across cases: spacings far from the median, declared classes that never occur.
  const reports = [...byCase.values()];
  const spaced = reports.filter((r) => r.spacing && r.split === 'training');
  if (spaced.length >= 3) {
    const med = medianSpacing(spaced.map((r) => r.spacing!));
    const f = opts.spacingOutlierFactor ?? 2;
    for (const r of reports) {
      if (!r.spacing) continue;
      if (r.spacing.some((s, a) => s > med[a]! * f || s < med[a]! / f)) {
        r.warnings.push(
          `spacing ${formatSpacing(r.spacing)} is far from the dataset median ${formatSpacing(med)}`,
        );
      }
    }
  }
  if (dataset.training.length > 0) {
    for (const cls of dataset.labels) {
      if (!cls.region && !seenValues.has(cls.values[0]!)) {
        warnings.push(`label "${cls.name}" (${cls.values[0]}) occurs in no case`);
      }
    }
  }
  // Training before test, by id within each: a case is found where one looks for it.
  const rank = (r: CaseReport): number => (r.split === 'training' ? 0 : 1);
  reports.sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  return finish({ root: dataset.root, dataset, errors, warnings, cases: reports });
}

function finish(r: Omit<CheckResult, 'ok' | 'errorCount' | 'warningCount' | 'report'>): CheckResult {
  const errorCount = r.errors.length + r.cases.reduce((n, c) => n + c.errors.length, 0);
  const warningCount = r.warnings.length + r.cases.reduce((n, c) => n + c.warnings.length, 0);
  const partial = { ...r, ok: errorCount === 0, errorCount, warningCount };
  return { ...partial, report: formatReport(partial) };
}

async function tryRead(file: string, what: string, r: CaseReport, root: string): Promise<Volume | undefined> {
  try {
    return await readImage(file);
  } catch (e) {
    r.errors.push(`${what}: cannot read ${rel(root, file)}: ${(e as Error).message}`);
    return undefined;
  }
}

async function checkCase(ds: Dataset, c: DatasetCase, r: CaseReport, opts: CheckOptions): Promise<void> {
  const tol = opts.tolerance ?? defaultTolerance;
  const nch = ds.channelNames.length;
  const files = new Map<string, Volume | undefined>();
  let ref: { vol: Volume; what: string } | undefined;

  // Grid and geometry of one file against the case's first readable one.
  const compare = (vol: Volume, what: string): void => {
    if (!ref) {
      ref = { vol, what };
      r.shape = vol.shape.slice(0, 3);
      r.spacing = [...vol.spacing];
      return;
    }
    const a = formatShape(vol.shape.slice(0, 3));
    const b = formatShape(ref.vol.shape.slice(0, 3));
    if (a !== b) r.errors.push(`${what}: grid ${a} differs from ${ref.what} (${b})`);
    const why = affineMismatch(vol.affine, ref.vol.affine, tol);
    if (why) r.errors.push(`${what}: geometry differs from ${ref.what}: ${why}`);
  };

  for (const [k, ch] of c.channels.entries()) {
    const what = `channel ${k} (${ds.channelNames[k] ?? '?'})`;
    if (!files.has(ch.path)) {
      const vol = await tryRead(ch.path, what, r, ds.root);
      files.set(ch.path, vol);
      if (vol) checkFileShape(vol, ch.index !== undefined, nch, what, r);
    }
    const vol = files.get(ch.path);
    if (!vol) continue;
    if (vol.datatype === 'rgb24') {
      r.errors.push(`${what}: colour (rgb24) image; expected one value per voxel`);
      continue;
    }
    compare(vol, what);
    const n = vol.shape[0]! * vol.shape[1]! * vol.shape[2]!;
    const idx = ch.index ?? 0;
    if (idx * n >= vol.data.length) continue; // reported by checkFileShape
    const bad = countNonFinite(vol, idx * n, (idx + 1) * n);
    if (bad > 0) r.errors.push(`${what}: ${bad} voxels are NaN or infinite`);
  }

  if (c.label) {
    const lab = await tryRead(c.label, 'label', r, ds.root);
    if (lab) checkLabel(ds, lab, r, compare);
  }
  if (r.spacing) {
    const max = opts.maxAnisotropy ?? 10;
    if (anisotropy(r.spacing) > max) {
      r.warnings.push(`very anisotropic spacing ${formatSpacing(r.spacing)} (ratio above ${max})`);
    }
    if (r.spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
      r.errors.push(`invalid voxel spacing ${formatSpacing(r.spacing)}`);
    }
  }
}

// 3D file for one channel, or a 4D file holding exactly the declared channels.
function checkFileShape(vol: Volume, fourD: boolean, nch: number, what: string, r: CaseReport): void {
  const nt = vol.shape.length > 3 ? vol.shape.slice(3).reduce((a, b) => a * b, 1) : 1;
  if (fourD && nt !== nch) {
    r.errors.push(
      `${what}: the 4D image holds ${nt} volume${nt === 1 ? '' : 's'}, dataset.json declares ${nch} channels`,
    );
  } else if (!fourD && nt > 1) {
    r.errors.push(`${what}: a 4D image with ${nt} volumes where one 3D channel file was expected`);
  }
}

function checkLabel(
  ds: Dataset,
  lab: Volume,
  r: CaseReport,
  compare: (v: Volume, what: string) => void,
): void {
  const nt = lab.shape.length > 3 ? lab.shape.slice(3).reduce((a, b) => a * b, 1) : 1;
  if (nt > 1) r.errors.push(`label: 4D with ${nt} volumes; expected one 3D label map`);
  if (lab.datatype === 'rgb24') {
    r.errors.push('label: colour (rgb24) image; expected integer label values');
    return;
  }
  compare(lab, 'label');
  const scan = scanLabel(lab);
  if (scan.nonInteger > 0) {
    r.errors.push(`label: ${scan.nonInteger} voxels are not integers (e.g. ${scan.nonIntegerExample})`);
  }
  const counts: Record<string, number> = {};
  for (const v of [...scan.counts.keys()].sort((a, b) => a - b)) counts[String(v)] = scan.counts.get(v)!;
  r.labelCounts = counts;
  const declared = new Set(ds.labelValues);
  const unexpected = [...scan.counts.keys()].filter((v) => !declared.has(v)).sort((a, b) => a - b);
  if (unexpected.length > 0 && ds.labels.length > 0) {
    const list = unexpected.map((v) => `${v} (${scan.counts.get(v)} voxels)`).join(', ');
    r.errors.push(`label: values ${list} are not declared (declared: ${ds.labelValues.join(', ')})`);
  }
  if (scan.nonInteger === 0 && [...scan.counts.keys()].every((v) => v === 0)) {
    r.warnings.push('label is empty (background only)');
  }
}

/** Thrown by assertDatasetValid; `result` holds the full check. */
export class DatasetInvalidError extends Error {
  constructor(readonly result: CheckResult) {
    super(`dataset ${result.root} failed the check:\n${result.report}`);
    this.name = 'DatasetInvalidError';
  }
}

/** For training: the dataset when it passes the check (warnings allowed), else DatasetInvalidError. */
export async function assertDatasetValid(
  source: string | Dataset,
  opts: CheckOptions = {},
): Promise<Dataset> {
  const result = await checkDataset(source, opts);
  if (!result.ok || !result.dataset) throw new DatasetInvalidError(result);
  return result.dataset;
}
