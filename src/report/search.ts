// The report's search section: every study in MODEL/search.sqlite as a table of its trials and one
// scatter plot per parameter (value against the parameter; log ranges on a log axis, choices as
// columns), complete trials blue, pruned ones grey.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openStorage } from '../search/storage/open.js';
import { toUnit, type Distribution, type Space } from '../search/space.js';
import type { TrialRecord } from '../search/storage/types.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(3)) : esc(String(v ?? '-'));

function scatter(name: string, d: Distribution, trials: TrialRecord[]): string {
  const W = 260;
  const H = 170;
  const pad = 30;
  const done = trials.filter(
    (t) => t.value !== null && Number.isFinite(t.value) && t.params[name] !== undefined,
  );
  const values = done.map((t) => t.value!);
  const lo = Math.min(...values, 0);
  const hi = Math.max(...values, lo + 1e-9);
  const x = (v: unknown): number => {
    const u =
      d.type === 'choice' ? (d.values.indexOf(v as never) + 0.5) / d.values.length : toUnit(d, Number(v));
    return pad + Math.min(1, Math.max(0, u)) * (W - 2 * pad);
  };
  const y = (v: number) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  const dots = done
    .map(
      (t) =>
        `<circle cx="${x(t.params[name]).toFixed(1)}" cy="${y(t.value!).toFixed(1)}" r="3.5" fill="${t.state === 'complete' ? '#36c' : '#999'}"><title>trial ${t.number}: ${fmt(t.value)}</title></circle>`,
    )
    .join('');
  const ticks =
    d.type === 'choice'
      ? d.values
          .map(
            (v) =>
              `<text x="${x(v).toFixed(1)}" y="${H - 12}" font-size="10" text-anchor="middle">${fmt(v)}</text>`,
          )
          .join('')
      : `<text x="${pad}" y="${H - 12}" font-size="10">${fmt(d.low)}</text><text x="${W - pad}" y="${H - 12}" font-size="10" text-anchor="end">${fmt(d.high)}${d.log ? ' (log)' : ''}</text>`;
  return (
    `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#ccc"/>` +
    `<text x="${W / 2}" y="16" font-size="12" text-anchor="middle">${esc(name)}</text>` +
    `<text x="4" y="${pad + 4}" font-size="10">${fmt(hi)}</text><text x="4" y="${H - pad}" font-size="10">${fmt(lo)}</text>` +
    `${ticks}${dots}</svg>`
  );
}

/** The HTML sections of the searches of model folder runDir (none without search.sqlite). */
export async function searchSections(runDir: string): Promise<string[]> {
  const file = path.join(runDir, 'search.sqlite');
  if (!existsSync(file)) return [];
  const storage = await openStorage(`sqlite:${file}`);
  try {
    const out: string[] = [];
    for (const study of await storage.listStudies()) {
      const space = ((study.config ?? {}) as { space?: Space }).space ?? {};
      const names = Object.keys(space);
      const trials = await storage.trials(study.id);
      const rows = trials
        .map(
          (t) =>
            `<tr><td>${t.number}</td><td>${t.state}</td><td>${fmt(t.value)}</td>${names.map((n) => `<td>${fmt(t.params[n])}</td>`).join('')}` +
            `<td style="text-align:left">${esc([t.requeuedFrom !== null ? `re-run of ${t.requeuedFrom}` : '', t.error ?? ''].filter(Boolean).join('; '))}</td></tr>`,
        )
        .join('');
      out.push(
        `<h2>Search: ${esc(study.name)} (${trials.length} trials)</h2>` +
          `<table><tr><th>trial</th><th>state</th><th>value</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}<th>note</th></tr>${rows}</table>` +
          `<div class="row">${names.map((n) => scatter(n, space[n]!, trials)).join('')}</div>`,
      );
    }
    return out;
  } finally {
    await storage.close();
  }
}
