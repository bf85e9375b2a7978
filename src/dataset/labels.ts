// Label declarations of both dataset.json flavours, parsed into LabelClass lists. MSD writes
// {"0": "background", "1": "PZ"} (value → name); nnU-Net v2 writes {"background": 0, "PZ": 1} (name → value)
// and, for region training, {"whole tumour": [1, 2, 3]}. Problems are collected, not thrown, so that a
// check can report all of them at once.
import type { DatasetIssue, LabelClass } from './types.js';

function isLabelValue(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** MSD `labels`: keys are the values (as strings), entries are the names. */
export function parseMsdLabels(raw: unknown, issues: DatasetIssue[]): LabelClass[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({
      severity: 'error',
      message: 'dataset.json: "labels" must be an object {"0": "background", ...}',
    });
    return [];
  }
  const classes: LabelClass[] = [];
  for (const [key, name] of Object.entries(raw)) {
    const value = Number(key);
    if (!/^\d+$/.test(key) || !isLabelValue(value)) {
      issues.push({
        severity: 'error',
        message: `dataset.json: label key "${key}" is not a non-negative integer`,
      });
      continue;
    }
    if (typeof name !== 'string') {
      issues.push({
        severity: 'error',
        message: `dataset.json: label ${key} has a name that is not a string`,
      });
      continue;
    }
    classes.push({ name, values: [value], region: false });
  }
  classes.sort((a, b) => a.values[0]! - b.values[0]!);
  checkLabelRules(classes, issues);
  return classes;
}

/** nnU-Net v2 `labels`: name → value, or name → list of values for a region. */
export function parseNnunetLabels(raw: unknown, issues: DatasetIssue[]): LabelClass[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({
      severity: 'error',
      message: 'dataset.json: "labels" must be an object {"background": 0, ...}',
    });
    return [];
  }
  const classes: LabelClass[] = [];
  for (const [name, v] of Object.entries(raw)) {
    if (isLabelValue(v)) {
      classes.push({ name, values: [v], region: false });
    } else if (Array.isArray(v) && v.length > 0 && v.every(isLabelValue)) {
      classes.push({ name, values: [...new Set(v)].sort((a, b) => a - b), region: true });
    } else {
      issues.push({
        severity: 'error',
        message: `dataset.json: label "${name}" must be a non-negative integer or a non-empty list of them`,
      });
    }
  }
  checkLabelRules(classes, issues);
  return classes;
}

// Rules shared by both flavours: one-value classes have unique values, 0 is background, and the values
// a label file may hold are consecutive (nnU-Net requires 0..N; other values need a mapping first).
function checkLabelRules(classes: LabelClass[], issues: DatasetIssue[]): void {
  const byValue = new Map<number, string>();
  for (const c of classes) {
    if (c.region) continue;
    const v = c.values[0]!;
    const other = byValue.get(v);
    if (other !== undefined) {
      issues.push({
        severity: 'error',
        message: `dataset.json: labels "${other}" and "${c.name}" share value ${v}`,
      });
    }
    byValue.set(v, c.name);
  }
  if (!byValue.has(0)) {
    issues.push({ severity: 'error', message: 'dataset.json: no label with value 0 (background)' });
  }
  const values = labelValueSet(classes);
  if (values[values.length - 1] !== values.length - 1) {
    issues.push({
      severity: 'warning',
      message: `dataset.json: label values ${values.join(', ')} are not consecutive 0..${values.length - 1}`,
    });
  }
}

/** Every integer a label file may contain, sorted. */
export function labelValueSet(classes: LabelClass[]): number[] {
  const set = new Set<number>([0]);
  for (const c of classes) for (const v of c.values) set.add(v);
  return [...set].sort((a, b) => a - b);
}

/** The nnU-Net v2 `labels` object for a class list. */
export function nnunetLabelsJson(classes: LabelClass[]): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const c of classes) out[c.name] = c.region ? [...c.values] : c.values[0]!;
  return out;
}

/** Parses a command-line label list "background=0,liver=1,tumour=2" (a region as "wt=1+2+3"). */
export function parseLabelList(text: string): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([^=]+?)\s*=\s*(\d+(?:\s*\+\s*\d+)*)\s*$/.exec(part);
    if (!m) throw new Error(`bad label entry "${part}": expected NAME=VALUE or NAME=V1+V2`);
    const values = m[2]!.split('+').map((s) => Number(s.trim()));
    out[m[1]!] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

/** dataset.json's regions_class_order: required with region labels, one positive value per non-background label. */
export function checkRegionClassOrder(
  labels: LabelClass[],
  raw: unknown,
  issues: DatasetIssue[],
): number[] | undefined {
  const hasRegions = labels.some((c) => c.region);
  if (raw === undefined) {
    if (hasRegions) {
      issues.push({ severity: 'error', message: 'dataset.json: region labels need "regions_class_order"' });
    }
    return undefined;
  }
  const ok = Array.isArray(raw) && raw.every((v) => Number.isInteger(v) && v > 0);
  const nonBackground = labels.filter((c) => !(c.values.length === 1 && c.values[0] === 0)).length;
  if (!ok || raw.length !== nonBackground) {
    issues.push({
      severity: 'error',
      message: `dataset.json: "regions_class_order" must list ${nonBackground} positive integers, one per non-background label`,
    });
    return undefined;
  }
  return raw as number[];
}
