// The Medical Segmentation Decathlon layout: dataset.json lists every training pair and test image
// explicitly, `modality` names the channels, and a multi-channel image is one 4D file.
import path from 'node:path';
import { parseMsdLabels, labelValueSet } from './labels.js';
import { fileEnding, stripEnding } from './paths.js';
import type { ChannelFile, Dataset, DatasetCase, DatasetIssue } from './types.js';

export type FileExists = (absPath: string) => boolean;

// The published files write paths as "./imagesTr/x.nii.gz" or "/imagesTr/x.nii" (relative to the task
// folder despite the slash), and some copies were recompressed, so '.nii' may be on disk as '.nii.gz'.
function resolveEntry(root: string, entry: string, exists: FileExists): { path: string; note?: string } {
  const relPath = entry.replace(/^\.?\/+/, '');
  const abs = path.resolve(root, relPath);
  if (exists(abs)) return { path: abs };
  const alt = abs.endsWith('.gz') ? abs.slice(0, -3) : `${abs}.gz`;
  if (exists(alt)) return { path: alt, note: `dataset.json names ${entry}, using ${path.basename(alt)}` };
  return { path: abs };
}

/** Reads a parsed MSD dataset.json; `exists` tells which files are there (fs.existsSync in practice). */
export function parseMsdDatasetJson(json: unknown, root: string, exists: FileExists): Dataset {
  const issues: DatasetIssue[] = [];
  const obj = (json ?? {}) as Record<string, unknown>;
  const modality = obj.modality;
  let channelNames: string[] = [];
  if (modality === null || typeof modality !== 'object' || Array.isArray(modality)) {
    issues.push({
      severity: 'error',
      message: 'dataset.json: "modality" must be an object {"0": "CT", ...}',
    });
  } else {
    const entries = Object.entries(modality as Record<string, unknown>);
    channelNames = entries.map((_, i) => String((modality as Record<string, unknown>)[String(i)] ?? ''));
    if (entries.length === 0 || channelNames.some((n) => n === '')) {
      issues.push({
        severity: 'error',
        message: 'dataset.json: "modality" keys must be "0".."N-1" with names',
      });
    }
  }
  const labels = parseMsdLabels(obj.labels, issues);
  const nch = channelNames.length;

  const makeChannels = (file: string): ChannelFile[] =>
    nch <= 1 ? [{ path: file }] : channelNames.map((_, index) => ({ path: file, index }));

  const training: DatasetCase[] = [];
  const seen = new Set<string>();
  const rawTraining = Array.isArray(obj.training) ? obj.training : [];
  if (!Array.isArray(obj.training)) {
    issues.push({ severity: 'error', message: 'dataset.json: "training" must be a list of {image, label}' });
  }
  for (const [i, item] of rawTraining.entries()) {
    const entry = (item ?? {}) as Record<string, unknown>;
    if (typeof entry.image !== 'string' || typeof entry.label !== 'string') {
      issues.push({ severity: 'error', message: `dataset.json: training[${i}] lacks "image" or "label"` });
      continue;
    }
    const image = resolveEntry(root, entry.image, exists);
    const label = resolveEntry(root, entry.label, exists);
    const id = stripEnding(image.path);
    if (seen.has(id)) {
      issues.push({ severity: 'error', caseId: id, message: 'listed twice in "training"' });
      continue;
    }
    seen.add(id);
    for (const n of [image.note, label.note])
      if (n) issues.push({ severity: 'warning', caseId: id, message: n });
    const missing = [image.path, label.path].filter((p) => !exists(p));
    for (const p of missing) {
      issues.push({ severity: 'error', caseId: id, message: `missing file ${path.relative(root, p)}` });
    }
    if (missing.length === 0) training.push({ id, channels: makeChannels(image.path), label: label.path });
  }

  const test: DatasetCase[] = [];
  for (const item of Array.isArray(obj.test) ? obj.test : []) {
    // Some task files list test entries as {image: ...} rather than plain strings.
    const entry = typeof item === 'string' ? item : (item as Record<string, unknown> | null)?.image;
    if (typeof entry !== 'string') continue;
    const image = resolveEntry(root, entry, exists);
    const id = stripEnding(image.path);
    if (!exists(image.path)) {
      issues.push({ severity: 'warning', caseId: id, message: `test image missing: ${entry}` });
      continue;
    }
    test.push({ id, channels: makeChannels(image.path) });
  }

  const numTraining = typeof obj.numTraining === 'number' ? obj.numTraining : undefined;
  if (numTraining !== undefined && numTraining !== rawTraining.length) {
    issues.push({
      severity: 'warning',
      message: `dataset.json: numTraining is ${numTraining} but "training" lists ${rawTraining.length} cases`,
    });
  }
  const first = training[0]?.channels[0]?.path;
  return {
    root,
    layout: 'msd',
    name: typeof obj.name === 'string' ? obj.name : path.basename(root),
    ...(typeof obj.description === 'string' ? { description: obj.description } : {}),
    channelNames,
    labels,
    labelValues: labelValueSet(labels),
    fileEnding: first ? fileEnding(first) : '.nii.gz',
    ...(numTraining !== undefined ? { numTraining } : {}),
    training,
    test,
    issues,
  };
}
