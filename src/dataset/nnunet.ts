// The nnU-Net v2 layout: dataset.json declares channels, labels and the file ending, and the cases are
// whatever sits in imagesTr/ (CASE_0000.nii.gz, CASE_0001.nii.gz, one file per channel) and labelsTr/
// (CASE.nii.gz). A `dataset` key may instead list each case's files explicitly.
import path from 'node:path';
import { checkRegionClassOrder, labelValueSet, nnunetLabelsJson, parseNnunetLabels } from './labels.js';
import { fileEnding, isHidden } from './paths.js';
import type { Dataset, DatasetCase, DatasetIssue } from './types.js';

/** What the reader needs to see of the disk; injected so the parsing is testable without files. */
export interface FolderView {
  /** Names in a folder (not recursive); [] when it does not exist. */
  list(absDir: string): string[];
  exists(absPath: string): boolean;
}

export function channelSuffix(k: number): string {
  return `_${String(k).padStart(4, '0')}`;
}

interface Found {
  channels: Map<number, string>;
  label?: string;
}

// Groups imagesTr-style names CASE_XXXX<ending> by case. Files that do not fit are reported.
function groupChannelFiles(
  dir: string,
  names: string[],
  ending: string,
  nch: number,
  issues: DatasetIssue[],
  severity: 'error' | 'warning',
): Map<string, Found> {
  const cases = new Map<string, Found>();
  const sub = path.basename(dir);
  for (const name of names.filter((n) => !isHidden(n)).sort()) {
    if (!name.endsWith(ending)) {
      issues.push({ severity: 'warning', message: `${sub}/${name}: ignored, does not end in ${ending}` });
      continue;
    }
    const m = /^(.+)_(\d{4})$/.exec(name.slice(0, name.length - ending.length));
    if (!m) {
      issues.push({ severity, message: `${sub}/${name}: not named CASE_XXXX${ending}` });
      continue;
    }
    const [id, k] = [m[1]!, Number(m[2])];
    let c = cases.get(id);
    if (!c) cases.set(id, (c = { channels: new Map() }));
    if (k >= nch) {
      issues.push({ severity, caseId: id, message: `${sub}/${name}: channel ${k} but only ${nch} declared` });
      continue;
    }
    c.channels.set(k, path.join(dir, name));
  }
  return cases;
}

function parseChannelNames(raw: unknown, issues: DatasetIssue[]): string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({
      severity: 'error',
      message: 'dataset.json: "channel_names" must be an object {"0": "CT", ...}',
    });
    return [];
  }
  const rec = raw as Record<string, unknown>;
  const n = Object.keys(rec).length;
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = rec[String(i)];
    if (typeof v !== 'string') {
      issues.push({ severity: 'error', message: `dataset.json: "channel_names" lacks a name for "${i}"` });
      names.push(`channel${i}`);
    } else names.push(v);
  }
  if (n === 0) issues.push({ severity: 'error', message: 'dataset.json: "channel_names" is empty' });
  return names;
}

/** Reads a parsed nnU-Net v2 dataset.json and the files beside it. */
export function parseNnunetDatasetJson(json: unknown, root: string, fsv: FolderView): Dataset {
  const issues: DatasetIssue[] = [];
  const obj = (json ?? {}) as Record<string, unknown>;
  const channelNames = parseChannelNames(obj.channel_names, issues);
  const labels = parseNnunetLabels(obj.labels, issues);
  const regionClassOrder = checkRegionClassOrder(labels, obj.regions_class_order, issues);
  let ending = typeof obj.file_ending === 'string' ? obj.file_ending : '';
  if (!ending) {
    issues.push({ severity: 'error', message: 'dataset.json: "file_ending" (e.g. ".nii.gz") is missing' });
    const guess = fsv.list(path.join(root, 'labelsTr')).find((n) => !isHidden(n));
    ending = guess ? fileEnding(guess) : '.nii.gz';
  }
  const nch = Math.max(channelNames.length, 1);

  let found: Map<string, Found>;
  if (obj.dataset !== undefined) {
    found = explicitCases(obj.dataset, root, issues);
  } else {
    const trDir = path.join(root, 'imagesTr');
    if (!fsv.exists(trDir)) issues.push({ severity: 'error', message: 'imagesTr/ is missing' });
    found = groupChannelFiles(trDir, fsv.list(trDir), ending, nch, issues, 'error');
    const lbDir = path.join(root, 'labelsTr');
    for (const name of fsv.list(lbDir).filter((n) => !isHidden(n))) {
      if (!name.endsWith(ending)) {
        issues.push({ severity: 'warning', message: `labelsTr/${name}: ignored, does not end in ${ending}` });
        continue;
      }
      const id = name.slice(0, name.length - ending.length);
      let c = found.get(id);
      if (!c) found.set(id, (c = { channels: new Map() }));
      c.label = path.join(lbDir, name);
    }
  }

  const training: DatasetCase[] = [];
  for (const id of [...found.keys()].sort()) {
    const c = found.get(id)!;
    const expected = (k: number): string =>
      c.channels.has(k)
        ? path.relative(root, c.channels.get(k)!)
        : `imagesTr/${id}${channelSuffix(k)}${ending}`;
    const complete = completeCase(id, c.channels, channelNames, nch, fsv, expected, issues, 'error');
    if (c.label === undefined) {
      issues.push({ severity: 'error', caseId: id, message: `no label file labelsTr/${id}${ending}` });
    } else if (!fsv.exists(c.label)) {
      issues.push({
        severity: 'error',
        caseId: id,
        message: `missing label file ${path.relative(root, c.label)}`,
      });
    } else if (complete) {
      training.push({ id, channels: complete, label: c.label });
    }
  }

  const numTraining = typeof obj.numTraining === 'number' ? obj.numTraining : undefined;
  if (numTraining === undefined) {
    issues.push({ severity: 'warning', message: 'dataset.json: "numTraining" is missing' });
  } else if (numTraining !== found.size) {
    issues.push({
      severity: 'error',
      message: `dataset.json: numTraining is ${numTraining} but ${found.size} training cases were found`,
    });
  }

  const test: DatasetCase[] = [];
  const tsDir = path.join(root, 'imagesTs');
  const tsIssues: DatasetIssue[] = [];
  const tsFound = groupChannelFiles(tsDir, fsv.list(tsDir), ending, nch, tsIssues, 'warning');
  for (const id of [...tsFound.keys()].sort()) {
    const expected = (k: number): string => `imagesTs/${id}${channelSuffix(k)}${ending}`;
    const ch = completeCase(
      id,
      tsFound.get(id)!.channels,
      channelNames,
      nch,
      fsv,
      expected,
      tsIssues,
      'warning',
    );
    if (ch) test.push({ id, channels: ch });
  }
  // Test cases are not what a training check is about: their problems are warnings, named as test.
  for (const t of tsIssues) issues.push({ ...t, message: `test: ${t.message}` });

  return {
    root,
    layout: 'nnunet-v2',
    name: typeof obj.name === 'string' ? obj.name : path.basename(root),
    ...(typeof obj.description === 'string' ? { description: obj.description } : {}),
    channelNames,
    labels,
    labelValues: labelValueSet(labels),
    ...(regionClassOrder ? { regionClassOrder } : {}),
    fileEnding: ending,
    ...(numTraining !== undefined ? { numTraining } : {}),
    training,
    test,
    issues,
  };
}

// The channel list of a case, or undefined (with one issue per missing channel) when incomplete.
// `expected(k)` names the file channel k should be in, for the message.
function completeCase(
  id: string,
  channels: Map<number, string>,
  names: string[],
  nch: number,
  fsv: FolderView,
  expected: (k: number) => string,
  issues: DatasetIssue[],
  severity: 'error' | 'warning',
): DatasetCase['channels'] | undefined {
  const out: DatasetCase['channels'] = [];
  for (let k = 0; k < nch; k++) {
    const p = channels.get(k);
    if (p === undefined || !fsv.exists(p)) {
      issues.push({
        severity,
        caseId: id,
        message: `missing channel ${k} (${names[k] ?? '?'}): ${expected(k)}`,
      });
    } else out.push({ path: p });
  }
  return out.length === nch ? out : undefined;
}

// The `dataset` key: {"case": {"images": ["rel/a.nii.gz", ...], "label": "rel/a_seg.nii.gz"}}.
function explicitCases(raw: unknown, root: string, issues: DatasetIssue[]): Map<string, Found> {
  const found = new Map<string, Found>();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ severity: 'error', message: 'dataset.json: "dataset" must be an object of cases' });
    return found;
  }
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    const entry = (v ?? {}) as Record<string, unknown>;
    const images = Array.isArray(entry.images) ? entry.images : [];
    const channels = new Map<number, string>();
    images.forEach((p, k) => {
      if (typeof p === 'string') channels.set(k, path.resolve(root, p));
    });
    found.set(id, {
      channels,
      ...(typeof entry.label === 'string' ? { label: path.resolve(root, entry.label) } : {}),
    });
  }
  return found;
}

/** The dataset.json nnU-Net v2 expects for a dataset written with CASE_XXXX channel files. */
export function nnunetDatasetJson(
  ds: Pick<Dataset, 'name' | 'description' | 'channelNames' | 'labels' | 'regionClassOrder'>,
  numTraining: number,
  fileEnding: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const channel_names: Record<string, string> = {};
  ds.channelNames.forEach((n, i) => (channel_names[String(i)] = n));
  return {
    name: ds.name,
    ...(ds.description ? { description: ds.description } : {}),
    channel_names,
    labels: nnunetLabelsJson(ds.labels),
    ...(ds.regionClassOrder ? { regions_class_order: ds.regionClassOrder } : {}),
    numTraining,
    file_ending: fileEnding,
    ...extra,
  };
}
