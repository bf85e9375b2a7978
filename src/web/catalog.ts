// What the viewer page shows of a model folder, gathered on the server into one JSON document: the
// cases with their out-of-fold predictions (MODEL/<config>/fold_F/validation/<id>.nii.gz), the
// dataset's image and reference of each case when a dataset folder is given, label names and
// colours, the training log of every fold, and the evaluations recorded under the model. The page
// receives URLs, never file-system paths: `/files/model/...` and `/files/data/...` (see server.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIGURATION_NAMES } from '../plan/schema.js';
import type { EpochLog } from '../train/types.js';
import { listEvaluations } from '../report/evaluations.js';
import { labelColor } from './palette.js';

export interface ViewerLabel {
  value: number;
  name: string;
  /** [r, g, b], 0..255 */
  color: [number, number, number];
}

export interface ViewerPrediction {
  config: string;
  fold: number;
  url: string;
}

export interface ViewerCase {
  id: string;
  image?: string;
  reference?: string;
  predictions: ViewerPrediction[];
  /** Per evaluation name: this case's metrics per label key. */
  metrics: Record<string, Record<string, Record<string, number | null>>>;
}

export interface ViewerCatalog {
  name: string;
  labels: ViewerLabel[];
  cases: ViewerCase[];
  training: { config: string; fold: number; log: EpochLog[] }[];
  evaluations: { name: string; config?: string; fold?: number | string; mean: unknown; keys: string[] }[];
  /** The cascade's stage names when the model has both: the page shows them side by side. */
  cascade?: { stage1: string; stage2: string };
}

export { labelColor } from './palette.js';

const readJson = (file: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Label names of an nnU-Net-style dataset.json ({ labels: { name: value | [values] } }). */
function labelNames(dataDir: string | undefined): Map<number, string> {
  const names = new Map<number, string>();
  if (!dataDir) return names;
  const ds = readJson(path.join(dataDir, 'dataset.json')) as { labels?: Record<string, unknown> } | undefined;
  for (const [name, v] of Object.entries(ds?.labels ?? {}))
    if (typeof v === 'number') names.set(v, name);
    else if (typeof v === 'string' && /^\d+$/.test(name)) names.set(Number(name), v); // MSD: "1": "spleen"
  return names;
}

const isLabelMap = (n: string) => n.endsWith('.nii.gz') && !n.endsWith('_probabilities.nii.gz');
const urlOf = (root: 'model' | 'data', ...parts: string[]) =>
  `/files/${root}/${parts.map(encodeURIComponent).join('/')}`;

function readLog(file: string): EpochLog[] {
  if (!existsSync(file)) return [];
  const rows: EpochLog[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n'))
    if (line.trim())
      try {
        rows.push(JSON.parse(line) as EpochLog);
      } catch {
        // a line cut short by a crash mid-write: the rows before it still show
      }
  return rows;
}

function findImage(dataDir: string, id: string): string | undefined {
  for (const sub of ['imagesTr', 'imagesTs']) {
    const name = `${id}_0000.nii.gz`;
    if (existsSync(path.join(dataDir, sub, name))) return urlOf('data', sub, name);
  }
  return undefined;
}

export function buildCatalog(modelDir: string, dataDir?: string): ViewerCatalog {
  if (!existsSync(path.join(modelDir, 'plans.json')))
    throw new Error(`${modelDir}: not a medseg model folder (no plans.json)`);
  const plans = readJson(path.join(modelDir, 'plans.json')) as { labelValues?: number[] } | undefined;
  const names = labelNames(dataDir);
  const labels = (plans?.labelValues ?? [])
    .filter((v) => v > 0)
    .map((value) => ({ value, name: names.get(value) ?? `label ${value}`, color: labelColor(value) }));
  const cases = new Map<string, ViewerCase>();
  const training: ViewerCatalog['training'] = [];
  const configs: string[] = [];
  for (const config of CONFIGURATION_NAMES) {
    const cdir = path.join(modelDir, config);
    if (!existsSync(cdir)) continue;
    configs.push(config);
    const folds = readdirSync(cdir)
      .filter((d) => /^fold_\d+$/.test(d))
      .map((d) => Number(d.slice(5)))
      .sort((a, b) => a - b);
    for (const fold of folds) {
      const log = readLog(path.join(cdir, `fold_${fold}`, 'log.jsonl'));
      if (log.length) training.push({ config, fold, log });
      const vdir = path.join(cdir, `fold_${fold}`, 'validation');
      if (!existsSync(vdir)) continue;
      for (const n of readdirSync(vdir).filter(isLabelMap).sort()) {
        const id = n.slice(0, -'.nii.gz'.length);
        const c = cases.get(id) ?? { id, predictions: [], metrics: {} };
        c.predictions.push({ config, fold, url: urlOf('model', config, `fold_${fold}`, 'validation', n) });
        cases.set(id, c);
      }
    }
  }
  const evaluations: ViewerCatalog['evaluations'] = [];
  for (const { name, record } of listEvaluations(modelDir)) {
    evaluations.push({
      name,
      config: record.config,
      fold: record.fold,
      mean: record.report.mean,
      keys: record.report.keys,
    });
    for (const r of record.report.cases) {
      const c = cases.get(r.case) ?? { id: r.case, predictions: [], metrics: {} };
      c.metrics[name] = r.metrics as unknown as Record<string, Record<string, number | null>>;
      cases.set(r.case, c);
    }
  }
  if (dataDir)
    for (const c of cases.values()) {
      const image = findImage(dataDir, c.id);
      if (image) c.image = image;
      if (existsSync(path.join(dataDir, 'labelsTr', `${c.id}.nii.gz`)))
        c.reference = urlOf('data', 'labelsTr', `${c.id}.nii.gz`);
    }
  const catalog: ViewerCatalog = {
    name: path.basename(path.resolve(modelDir)),
    labels,
    cases: [...cases.values()].sort((a, b) => a.id.localeCompare(b.id)),
    training,
    evaluations,
  };
  const stage2 = configs.find((c) => c.startsWith('3d_cascade'));
  if (configs.includes('3d_lowres') && stage2) catalog.cascade = { stage1: '3d_lowres', stage2 };
  return catalog;
}
