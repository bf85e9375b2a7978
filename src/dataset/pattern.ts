// Datasets that are only a folder of files (BIDS-like trees, DeepMedic case folders) are described by
// path patterns relative to the folder:
//
//   {case}     the case id: one or more characters within one path segment. Every pattern must contain
//              it; a second occurrence in the same pattern must repeat the same text.
//   {channel}  replaced by each value of `channels`, giving one image pattern per channel.
//   *          any characters within one path segment;   ?  exactly one such character;
//   **         any number of whole segments (as '**/').
//
// e.g. images 'sub-{case}/ct/sub-{case}_ct.nii.gz', label 'derivatives/labels/sub-{case}/ct/*seg*.nii.gz';
// or image 'brats_2013_{case}/{channel}_subtrMeanDivStd.nii.gz' with channels Flair, T1c.
import fs from 'node:fs';
import path from 'node:path';
import { checkRegionClassOrder, labelValueSet, parseNnunetLabels } from './labels.js';
import { fileEnding, isHidden } from './paths.js';
import type { Dataset, DatasetCase, DatasetIssue } from './types.js';

export interface PatternSpec {
  /** Folder the patterns are relative to. */
  root: string;
  /** One pattern per channel, or a single pattern with {channel} expanded over `channels`. */
  images: string[];
  /** Values substituted for {channel}; they also name the channels unless `channelNames` is given. */
  channels?: string[];
  channelNames?: string[];
  /** Pattern of the label files; without it every matched case is a test case. */
  label?: string;
  /** nnU-Net v2 style name → value(s); when absent the caller infers them (see inferPatternLabels). */
  labels?: Record<string, number | number[]>;
  /** With region labels: the value each region writes, in order (nnU-Net's regions_class_order). */
  regionClassOrder?: number[];
  name?: string;
  description?: string;
}

/** Compiles a pattern into an anchored regular expression with a named group `case`. */
export function compilePattern(pattern: string): RegExp {
  const p = pattern.replace(/^\.\/+/, '');
  if (p.startsWith('/')) throw new Error(`pattern "${pattern}" must be relative to the dataset folder`);
  let re = '';
  let haveCase = false;
  for (let i = 0; i < p.length;) {
    if (p.startsWith('**/', i)) {
      re += '(?:[^/]+/)*';
      i += 3;
    } else if (p.startsWith('**', i)) {
      re += '.*';
      i += 2;
    } else if (p[i] === '*') {
      re += '[^/]*';
      i++;
    } else if (p[i] === '?') {
      re += '[^/]';
      i++;
    } else if (p[i] === '{') {
      const close = p.indexOf('}', i);
      const name = close < 0 ? '' : p.slice(i + 1, close);
      if (name !== 'case') {
        throw new Error(
          `pattern "${pattern}": unknown placeholder {${name}} (known: {case}, {channel}; use * as wildcard)`,
        );
      }
      re += haveCase ? '\\k<case>' : '(?<case>[^/]+?)';
      haveCase = true;
      i = close + 1;
    } else {
      re += p[i]!.replace(/[.+^$()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  if (!haveCase) throw new Error(`pattern "${pattern}" has no {case} placeholder`);
  return new RegExp(`^${re}$`);
}

/** The image patterns, one per channel, after {channel} expansion. */
export function channelPatterns(spec: Pick<PatternSpec, 'images' | 'channels'>): string[] {
  const withChannel = spec.images.filter((p) => p.includes('{channel}'));
  if (withChannel.length === 0) return spec.images;
  if (spec.images.length !== 1) throw new Error('a {channel} pattern must be the only image pattern');
  if (!spec.channels?.length) throw new Error('a {channel} pattern needs the channel values (channels)');
  return spec.channels.map((c) => spec.images[0]!.split('{channel}').join(c));
}

// The literal folder a pattern starts in, so the walk need not cover the whole tree.
function literalPrefix(pattern: string): string {
  const segs = pattern.replace(/^\.\/+/, '').split('/');
  const out: string[] = [];
  for (const s of segs.slice(0, -1)) {
    if (/[*?{]/.test(s)) break;
    out.push(s);
  }
  return out.join('/');
}

/** Every non-hidden file under root/sub, as '/'-separated paths relative to root. */
export function walkFiles(root: string, sub = '', maxDepth = 12): string[] {
  const out: string[] = [];
  const visit = (relDir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, relDir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const r = relDir ? `${relDir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < maxDepth) visit(r, depth + 1);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  visit(sub, 0);
  return out.sort();
}

/**
 * Matches the patterns against the files under spec.root. Labels are taken from spec.labels as given
 * (empty when absent): inferring them needs the label voxels, which is the async caller's job.
 */
export function matchPattern(
  spec: PatternSpec,
  list: (sub: string) => string[] = (s) => walkFiles(spec.root, s),
): Dataset {
  const root = path.resolve(spec.root);
  const issues: DatasetIssue[] = [];
  const imagePatterns = channelPatterns(spec);
  const channelNames = spec.channelNames ?? spec.channels ?? imagePatterns.map((_, i) => `channel${i}`);
  if (channelNames.length !== imagePatterns.length) {
    throw new Error(`${channelNames.length} channel names for ${imagePatterns.length} image patterns`);
  }
  const listings = new Map<string, string[]>();
  const filesFor = (pattern: string): string[] => {
    const sub = literalPrefix(pattern);
    if (!listings.has(sub)) listings.set(sub, list(sub));
    return listings.get(sub)!;
  };
  // case id → file per pattern (channels first, label last)
  const all = spec.label ? [...imagePatterns, spec.label] : imagePatterns;
  const found = new Map<string, (string | undefined)[]>();
  const ambiguous = new Set<string>();
  all.forEach((pattern, k) => {
    const re = compilePattern(pattern);
    for (const f of filesFor(pattern)) {
      const m = re.exec(f);
      if (!m) continue;
      const id = m.groups!.case!;
      let row = found.get(id);
      if (!row) found.set(id, (row = new Array<string | undefined>(all.length).fill(undefined)));
      if (row[k] !== undefined) {
        const what = k < imagePatterns.length ? `channel ${k} (${channelNames[k]})` : 'the label';
        issues.push({
          severity: 'error',
          caseId: id,
          message: `several files match ${what}: ${row[k]}, ${f}`,
        });
        ambiguous.add(id);
        continue;
      }
      row[k] = f;
    }
  });

  const training: DatasetCase[] = [];
  const test: DatasetCase[] = [];
  for (const id of [...found.keys()].sort()) {
    const row = found.get(id)!;
    let complete = true;
    imagePatterns.forEach((p, k) => {
      if (row[k] === undefined) {
        complete = false;
        issues.push({
          severity: 'error',
          caseId: id,
          message: `no file for channel ${k} (${channelNames[k]}) matches ${p}`,
        });
      }
    });
    if (spec.label && row[imagePatterns.length] === undefined) {
      complete = false;
      issues.push({ severity: 'error', caseId: id, message: `no label file matches ${spec.label}` });
    }
    // An ambiguous case is left out rather than trained on with an arbitrary pick.
    if (!complete || ambiguous.has(id)) continue;
    const channels = imagePatterns.map((_, k) => ({ path: path.join(root, row[k]!) }));
    if (spec.label) training.push({ id, channels, label: path.join(root, row[imagePatterns.length]!) });
    else test.push({ id, channels });
  }
  if (found.size === 0)
    issues.push({ severity: 'error', message: `no file under ${root} matches the patterns` });

  const labels = spec.labels ? parseNnunetLabels(spec.labels, issues) : [];
  const regionClassOrder = spec.labels
    ? checkRegionClassOrder(labels, spec.regionClassOrder, issues)
    : undefined;
  const first = (training[0] ?? test[0])?.channels[0]?.path;
  return {
    root,
    layout: 'pattern',
    name: spec.name ?? path.basename(root),
    ...(spec.description ? { description: spec.description } : {}),
    channelNames,
    labels,
    labelValues: labelValueSet(labels),
    ...(regionClassOrder ? { regionClassOrder } : {}),
    fileEnding: first ? fileEnding(first) : '.nii.gz',
    training,
    test,
    issues,
  };
}
