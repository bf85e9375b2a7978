// Means over cases, the CSV table and the JSON report of an evaluation.
import { METRIC_KEYS, bothEmptyMetrics, type CaseMetrics, type Metrics } from './metrics.js';

/** One evaluated case. */
export interface CaseResult {
  /** The file name without its image extension. */
  case: string;
  metrics: CaseMetrics;
}

/** Metrics that can be infinite (one of pred/ref empty). */
export const INFINITE_KEYS = [
  'hd95',
  'hd',
  'assd',
  'volumeDiffRel',
] as const satisfies readonly (keyof Metrics)[];
type InfiniteKey = (typeof INFINITE_KEYS)[number];

/**
 * The mean of every metric over the cases. Infinite values are left out of the mean and counted in
 * `infinite`; a mean over no finite value is null.
 */
export type MeanMetrics = { [K in keyof Metrics]: number | null } & {
  cases: number;
  infinite: Record<InfiniteKey, number>;
};

/**
 * Gives every case an entry for every key that any case has: a label absent from a case's pred and
 * ref (so not found there by default) scores as both empty. Keys keep their first-seen order, labels first.
 */
export function completeKeys(cases: CaseResult[]): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const c of cases) {
    for (const k of Object.keys(c.metrics)) {
      if (!seen.has(k)) keys.push(k);
      seen.add(k);
    }
  }
  const isLabel = (k: string) => /^-?\d+$/.test(k);
  const ordered = [
    ...keys.filter(isLabel).sort((a, b) => Number(a) - Number(b)),
    ...keys.filter((k) => !isLabel(k)),
  ];
  for (const c of cases) {
    const m: CaseMetrics = {};
    for (const k of ordered) m[k] = c.metrics[k] ?? bothEmptyMetrics();
    c.metrics = m;
  }
  return ordered;
}

/** The mean per key over the cases (see MeanMetrics). */
export function meanMetrics(
  cases: readonly CaseResult[],
  keys: readonly string[],
): Record<string, MeanMetrics> {
  const out: Record<string, MeanMetrics> = {};
  for (const key of keys) {
    const rows = cases.map((c) => c.metrics[key]).filter((m): m is Metrics => m !== undefined);
    const infinite = Object.fromEntries(INFINITE_KEYS.map((k) => [k, 0])) as Record<InfiniteKey, number>;
    const mean: Partial<Record<keyof Metrics, number | null>> = {};
    for (const k of METRIC_KEYS) {
      let sum = 0;
      let n = 0;
      for (const m of rows) {
        const v = m[k];
        if (Number.isFinite(v)) {
          sum += v;
          n++;
        } else if (k in infinite) infinite[k as InfiniteKey]++;
      }
      mean[k] = n > 0 ? sum / n : null;
    }
    out[key] = { ...(mean as Record<keyof Metrics, number | null>), cases: rows.length, infinite };
  }
  return out;
}

const CSV_COLUMNS: Record<keyof Metrics, string> = {
  dice: 'dice',
  iou: 'iou',
  hd95: 'hd95_mm',
  hd: 'hd_mm',
  assd: 'assd_mm',
  nsd: 'nsd',
  predVoxels: 'pred_voxels',
  refVoxels: 'ref_voxels',
  intersectionVoxels: 'intersection_voxels',
  predVolumeMm3: 'pred_volume_mm3',
  refVolumeMm3: 'ref_volume_mm3',
  volumeDiffMm3: 'volume_diff_mm3',
  volumeDiffRel: 'volume_diff_rel',
};

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV table: a header, then one row per case × key; infinite values are written `inf`. */
export function metricsCsv(cases: readonly CaseResult[], keys: readonly string[]): string {
  const lines = [['case', 'label', ...METRIC_KEYS.map((k) => CSV_COLUMNS[k])].join(',')];
  for (const c of cases) {
    for (const key of keys) {
      const m = c.metrics[key];
      if (!m) continue;
      const values = METRIC_KEYS.map((k) => (m[k] === Infinity ? 'inf' : String(m[k])));
      lines.push([csvField(c.case), csvField(key), ...values].join(','));
    }
  }
  return lines.join('\n') + '\n';
}
