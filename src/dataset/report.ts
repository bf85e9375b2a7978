// The human-readable form of a check: a dataset header, dataset-wide problems, then every case with a
// problem and all of its problems, and a one-line verdict. Cases without problems are only counted, so
// that a thousand-case dataset with one bad case still reads in a glance.
import type { CheckResult } from './check.js';
import { formatSpacing, medianSpacing } from './geometry.js';

type Partial = Omit<CheckResult, 'report'>;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatReport(r: Partial): string {
  const lines: string[] = [];
  const ds = r.dataset;
  if (ds) {
    lines.push(`dataset ${ds.name} (${ds.layout}) at ${ds.root}`);
    lines.push(`  ${plural(ds.training.length, 'training case')}, ${plural(ds.test.length, 'test case')}`);
    lines.push(`  channels: ${ds.channelNames.map((n, i) => `${i} ${n}`).join(', ') || 'none'}`);
    const labels = ds.labels.map((c) => `${c.name}=${c.values.join('+')}`).join(', ');
    lines.push(`  labels: ${labels || 'none declared'}`);
    const spaced = r.cases.filter((c) => c.spacing && c.split === 'training').map((c) => c.spacing!);
    if (spaced.length > 0) lines.push(`  median spacing ${formatSpacing(medianSpacing(spaced))}`);
  } else {
    lines.push(`dataset at ${r.root}`);
  }
  if (r.errors.length + r.warnings.length > 0) {
    lines.push('', 'dataset:');
    for (const e of r.errors) lines.push(`  error: ${e}`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
  }
  let clean = 0;
  for (const c of r.cases) {
    if (c.errors.length + c.warnings.length === 0) {
      clean++;
      continue;
    }
    const counts = [
      c.errors.length && plural(c.errors.length, 'error'),
      c.warnings.length && plural(c.warnings.length, 'warning'),
    ];
    lines.push('', `case ${c.id} (${c.split}): ${counts.filter(Boolean).join(', ')}`);
    for (const e of c.errors) lines.push(`  error: ${e}`);
    for (const w of c.warnings) lines.push(`  warning: ${w}`);
  }
  if (r.cases.length > 0) lines.push('', `${plural(clean, 'case')} without problems`);
  const withErrors = r.cases.filter((c) => c.errors.length > 0).length;
  const verdict = r.ok ? 'OK' : 'FAILED';
  lines.push(
    `${verdict}: ${plural(r.errorCount, 'error')}, ${plural(r.warningCount, 'warning')}` +
      (withErrors > 0 ? ` (${plural(withErrors, 'case')} with errors)` : ''),
  );
  return lines.join('\n');
}
