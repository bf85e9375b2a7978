// Evaluation of a folder of predictions against a folder of references, matched by file name.
import fs from 'node:fs';
import path from 'node:path';
import { formatOfName, readImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import { EvaluationInputError } from './labels.js';
import { DEFAULT_TOLERANCE_MM, evaluateCase, type CaseMetrics, type EvaluateOptions } from './metrics.js';
import { completeKeys, meanMetrics, type CaseResult, type MeanMetrics } from './summary.js';

export interface FolderEvaluationOptions extends EvaluateOptions {
  /** Folder of predicted label maps. */
  predDir: string;
  /** Folder of reference label maps; files are matched to predictions by identical names. */
  refDir: string;
  /** Reads one image (default readImage of src/io/image.ts). */
  read?: (file: string) => Promise<Volume>;
  /** Called after each case. */
  onCase?: (result: CaseResult, seconds: number) => void;
  /** Called with each warning as it arises (they are also in the report). */
  onWarning?: (message: string) => void;
}

export interface EvaluationReport {
  cases: CaseResult[];
  /** Mean over cases per label / region key. */
  mean: Record<string, MeanMetrics>;
  /** The label and region keys, in report order. */
  keys: string[];
  toleranceMm: number;
  /** Image files found in only one of the folders. */
  unmatched: { pred: string[]; ref: string[] };
  warnings: string[];
}

/** The image extension of a file name ('.nii.gz', '.nrrd', ...), or undefined for other files. */
function imageExtension(name: string): string | undefined {
  const format = formatOfName(name);
  if (format === undefined || format === 'dicom') return undefined;
  return format === 'nifti-gz' ? name.slice(-7) : path.extname(name);
}

async function listImages(dir: string, role: string): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new EvaluationInputError(`${role} folder ${dir}: ${(e as Error).message}`);
  }
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && imageExtension(e.name) !== undefined)
    .map((e) => e.name)
    .sort();
}

/** The largest absolute difference of two 4×4 affines. */
function affineDifference(a: number[][], b: number[][]): number {
  let d = 0;
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs((a[r]?.[c] ?? 0) - (b[r]?.[c] ?? 0)));
  return d;
}

/** Affines closer than this (in mm, or unit-less for rotation terms) count as equal. */
const AFFINE_TOLERANCE = 1e-4;

/**
 * Evaluates every prediction whose file name also exists among the references (see metrics.ts for
 * the definitions). Files present on one side only are listed in `unmatched` (and warned about); no
 * match at all is an error. Cases are read and evaluated one at a time.
 */
export async function evaluateFolders(options: FolderEvaluationOptions): Promise<EvaluationReport> {
  const { predDir, refDir } = options;
  const read = options.read ?? readImage;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  const preds = await listImages(predDir, 'prediction');
  const refs = await listImages(refDir, 'reference');
  const refSet = new Set(refs);
  const predSet = new Set(preds);
  const matched = preds.filter((f) => refSet.has(f));
  const unmatched = { pred: preds.filter((f) => !refSet.has(f)), ref: refs.filter((f) => !predSet.has(f)) };
  if (matched.length === 0) {
    throw new EvaluationInputError(
      `no file name is in both ${predDir} (${preds.length} images) and ${refDir} (${refs.length} images)` +
        (preds.length && refs.length ? `; e.g. ${preds[0]} and ${refs[0]}` : ''),
    );
  }
  const list = (files: string[]) =>
    files.slice(0, 10).join(', ') + (files.length > 10 ? `, … (${files.length} in all)` : '');
  if (unmatched.pred.length)
    warn(`${unmatched.pred.length} prediction(s) without a reference in ${refDir}: ${list(unmatched.pred)}`);
  if (unmatched.ref.length)
    warn(`${unmatched.ref.length} reference(s) without a prediction in ${predDir}: ${list(unmatched.ref)}`);

  const evalOptions: EvaluateOptions = {
    toleranceMm: options.toleranceMm ?? DEFAULT_TOLERANCE_MM,
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.regions ? { regions: options.regions } : {}),
  };
  const cases: CaseResult[] = [];
  for (const file of matched) {
    const start = performance.now();
    const predFile = path.join(predDir, file);
    const refFile = path.join(refDir, file);
    const name = file.slice(0, file.length - imageExtension(file)!.length);
    const ref = await read(refFile);
    const pred = await read(predFile);
    for (const [v, f] of [
      [ref, refFile],
      [pred, predFile],
    ] as const) {
      if (v.datatype === 'rgb24') throw new EvaluationInputError(`${f}: an RGB image is not a label map`);
    }
    const diff = affineDifference(pred.affine, ref.affine);
    if (diff > AFFINE_TOLERANCE) {
      warn(
        `${name}: the affines of ${predFile} and ${refFile} differ (by up to ${diff.toPrecision(3)}); using the reference's spacing`,
      );
    }
    const metrics: CaseMetrics = evaluateCase(pred, ref, evalOptions, { pred: predFile, ref: refFile });
    const result: CaseResult = { case: name, metrics };
    cases.push(result);
    options.onCase?.(result, (performance.now() - start) / 1000);
  }
  const keys = completeKeys(cases);
  return {
    cases,
    mean: meanMetrics(cases, keys),
    keys,
    toleranceMm: evalOptions.toleranceMm!,
    unmatched,
    warnings,
  };
}

/** The report as JSON: {cases: [{case, metrics}], mean, toleranceMm, unmatched, warnings}; Infinity → null. */
export function reportJson(report: EvaluationReport): string {
  const { cases, mean, toleranceMm, unmatched, warnings } = report;
  return JSON.stringify({ cases, mean, toleranceMm, unmatched, warnings });
}
