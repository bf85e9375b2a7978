// `medseg report RUN_DIR`: one self-contained HTML page for a model folder — training curves of
// every trained fold, the per-case metrics table of the last evaluation, and overlay images (image +
// reference + prediction) of the best and the worst case. Evaluations come from MODEL/evaluations/
// (recorded by `medseg evaluate --model`), MODEL/evaluation.json (the demo) and files named with --eval.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CONFIGURATION_NAMES } from '../plan/planner.js';
import { readPlans } from '../plan/schema.js';
import type { OutOfFoldSummary } from '../train/outOfFold.js';
import { describePostprocessing, readRecipe } from '../infer/recipe.js';
import { writeFileAtomic } from '../io/atomic.js';
import path from 'node:path';
import { readImage } from '../io/image.js';
import type { EvaluationReport } from '../evaluate/folders.js';
import { listEvaluations, readEvaluation, type EvaluationRecord } from './evaluations.js';
import { busiestSlice, overlayPng } from './overlay.js';
import type { EpochLog } from '../train/types.js';
import { searchSections } from './search.js';
import { multitaskSections } from './multitask.js';

export async function writeEvaluationRecord(modelDir: string, rec: EvaluationRecord): Promise<string> {
  const file = path.join(modelDir, 'evaluation.json');
  await writeFileAtomic(file, JSON.stringify(rec, null, 2));
  return file;
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function curveSvg(title: string, series: { name: string; values: number[]; color: string }[]): string {
  const W = 420;
  const H = 220;
  const pad = 36;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (!all.length) return '';
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all, lo + 1e-6);
  const digits = hi < 0.1 ? 5 : 2; // learning rates are small
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => pad + (n > 1 ? (i / (n - 1)) * (W - 2 * pad) : 0);
  const y = (v: number) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  const lines = series
    .map((s) => {
      // epochs without a value (NaN) are left out of the line rather than drawn at a made-up height
      const pts = s.values
        .map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : ''))
        .filter(Boolean)
        .join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`;
    })
    .join('');
  const legend = series
    .map((s, i) => `<text x="${pad + 75 * i}" y="14" fill="${s.color}" font-size="12">${esc(s.name)}</text>`)
    .join('');
  return `<figure><svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" style="background:#fafafa">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/>
<text x="4" y="${y(hi) + 4}" font-size="10">${hi.toFixed(digits)}</text><text x="4" y="${y(lo) + 4}" font-size="10">${lo.toFixed(digits)}</text>
<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">epoch</text>${lines}${legend}</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '∞';
  if (typeof v === 'number') return Number.isFinite(v) ? v.toFixed(3) : '∞';
  return esc(String(v));
}

function meanDice(c: EvaluationReport['cases'][number]): number {
  const d = Object.values(c.metrics)
    .map((m) => (m as { dice?: number }).dice)
    .filter((v): v is number => typeof v === 'number');
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : 0;
}

async function findImage(imagesDir: string, id: string): Promise<string | undefined> {
  if (!existsSync(imagesDir)) return undefined;
  const names = readdirSync(imagesDir).sort();
  return names
    .map((n) => path.join(imagesDir, n))
    .find((f) => path.basename(f).startsWith(`${id}_0000`) || path.basename(f).startsWith(`${id}.`));
}

export interface ReportOptions {
  /** Evaluation record files to show besides those recorded under the model. */
  evaluations?: string[];
}

export async function writeReport(
  runDir: string,
  outFile = path.join(runDir, 'report.html'),
  options: ReportOptions = {},
): Promise<string> {
  if (!existsSync(path.join(runDir, 'plans.json')))
    throw new Error(`${runDir}: not a medseg model folder (no plans.json)`);
  const sections: string[] = [];
  const names = await pseudoDiceNames(runDir);
  // training curves of every config/fold with a log
  for (const config of readdirSync(runDir).filter(
    (d) => existsSync(path.join(runDir, d)) && /^(2d|3d_)/.test(d),
  )) {
    for (const fold of readdirSync(path.join(runDir, config)).filter((d) => d.startsWith('fold_'))) {
      const log = path.join(runDir, config, fold, 'log.jsonl');
      if (!existsSync(log)) continue;
      const rows = (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Partial<EpochLog>);
      sections.push(
        `<h2>Training: ${esc(config)} ${esc(fold)}</h2><div class="row">${trainingCurves(rows, names)}</div>`,
      );
    }
  }
  sections.push(...(await crossValidationSections(runDir)));
  sections.push(...(await searchSections(runDir)));
  sections.push(...(await multitaskSections(runDir))); // train-multi / meta-train models: per-task table
  const evaluations = listEvaluations(runDir).map((e) => ({ name: e.name, record: e.record }));
  for (const f of options.evaluations ?? [])
    evaluations.push({ name: path.basename(f).replace(/\.json$/, ''), record: readEvaluation(f) });
  for (const { name, record } of evaluations) sections.push(...(await evaluationSections(name, record)));
  if (!evaluations.length)
    sections.push('<p>No evaluation yet (run medseg evaluate ... --model MODEL, or medseg demo).</p>');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>medseg report: ${esc(path.basename(path.resolve(runDir)))}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee}tr.mean td{font-weight:bold}.row{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}img{image-rendering:pixelated}</style></head>
<body><h1>medseg report: ${esc(path.basename(path.resolve(runDir)))}</h1>${sections.join('\n')}</body></html>`;
  await writeFileAtomic(outFile, html);
  return outFile;
}

/** One evaluation: its per-case table and overlays of its best and worst case. */
async function evaluationSections(name: string, rec: EvaluationRecord): Promise<string[]> {
  const sections: string[] = [];
  {
    const keys = rec.report.keys;
    const head = `<tr><th>case</th>${keys.map((k) => `<th>Dice ${esc(k)}</th><th>HD95 ${esc(k)}</th><th>NSD ${esc(k)}</th>`).join('')}</tr>`;
    const row = (name: string, m: Record<string, unknown>) =>
      `<tr><td>${esc(name)}</td>${keys
        .map((k) => {
          const v = (m[k] ?? {}) as { dice?: number; hd95?: number | null; nsd?: number };
          return `<td>${fmt(v.dice)}</td><td>${fmt(v.hd95)}</td><td>${fmt(v.nsd)}</td>`;
        })
        .join('')}</tr>`;
    const body = rec.report.cases.map((c) => row(c.case, c.metrics as Record<string, unknown>)).join('');
    const mean = row('mean', rec.report.mean as Record<string, unknown>);
    sections.push(
      `<h2>Evaluation ${esc(name)}${where(rec)}; NSD tolerance ${rec.report.toleranceMm} mm</h2>` +
        `<table>${head}${body}<tr class="mean">${mean.slice(4)}</table>`,
    );
    const ranked = [...rec.report.cases].sort((a, b) => meanDice(b) - meanDice(a));
    const picks = ranked.length > 1 ? [ranked[0]!, ranked[ranked.length - 1]!] : ranked;
    const figs: string[] = [];
    for (const [i, c] of picks.entries()) {
      const img = rec.imagesDir ? await findImage(rec.imagesDir, c.case) : undefined;
      const ref = path.join(rec.refDir, `${c.case}.nii.gz`);
      const pred = path.join(rec.predDir, `${c.case}.nii.gz`);
      if (!img || !existsSync(ref) || !existsSync(pred)) continue;
      const [iv, rv, pv] = await Promise.all([readImage(img), readImage(ref), readImage(pred)]);
      const z = busiestSlice(rv);
      const png = overlayPng(iv, rv, pv, z).toString('base64');
      figs.push(
        `<figure><img src="data:image/png;base64,${png}" alt="${esc(c.case)}"/><figcaption>${i === 0 ? 'best' : 'worst'}: ` +
          `${esc(c.case)}, slice ${z}, mean Dice ${meanDice(c).toFixed(3)}</figcaption></figure>`,
      );
    }
    if (figs.length)
      sections.push(
        `<h2>Overlays (${esc(name)})</h2><p>green: reference, red: prediction, yellow: both</p><div class="row">${figs.join('')}</div>`,
      );
  }
  return sections;
}

const where = (r: EvaluationRecord) =>
  r.config !== undefined
    ? ` (${esc(r.config)}${r.fold !== undefined ? `, fold ${esc(String(r.fold))}` : ''})`
    : '';

const LABEL_COLORS = ['#36c', '#c39', '#e80', '#0aa', '#960', '#63c', '#3a3', '#c33'];

/** What each pseudo-Dice entry scores: the plan's regions by name, else the foreground label values. */
async function pseudoDiceNames(runDir: string): Promise<string[]> {
  try {
    const plans = await readPlans(path.join(runDir, 'plans.json'));
    return plans.regions
      ? plans.regions.map((r) => r.name)
      : plans.labelValues.slice(1).map((v) => `label ${v}`);
  } catch {
    return []; // the plans' own error belongs to the commands that use them; the report shows the rest
  }
}

/**
 * nnU-Net's progress plot as four charts: loss, pseudo-Dice per label (or region: `names`) + EMA,
 * learning rate, epoch time.
 */
export function trainingCurves(rows: Partial<EpochLog>[], names: string[] = []): string {
  const col = (k: keyof EpochLog) => rows.map((r) => (typeof r[k] === 'number' ? (r[k] as number) : NaN));
  const nLabels = Math.max(0, ...rows.map((r) => r.val_dice?.length ?? 0));
  const perLabel = Array.from({ length: nLabels }, (_, i) => ({
    name: names[i] ?? `label ${i + 1}`,
    values: rows.map((r) => r.val_dice?.[i] ?? NaN),
    color: LABEL_COLORS[i % LABEL_COLORS.length]!,
  }));
  return (
    curveSvg('training loss', [{ name: 'train loss', values: col('train_loss'), color: '#c33' }]) +
    curveSvg('validation pseudo-Dice', [
      ...(nLabels > 1 ? perLabel : []),
      { name: 'mean', values: col('val_mean_dice'), color: '#222' },
      { name: 'EMA', values: col('ema_dice'), color: '#393' },
    ]) +
    curveSvg('learning rate', [{ name: 'lr', values: col('lr'), color: '#777' }]) +
    curveSvg('epoch time (s)', [{ name: 'seconds', values: col('seconds'), color: '#a60' }])
  );
}

/** Out-of-fold Dice per configuration and fold, and find-best's comparison when it has run. */
async function crossValidationSections(runDir: string): Promise<string[]> {
  const out: string[] = [];
  const rows: string[] = [];
  for (const config of CONFIGURATION_NAMES) {
    const dir = path.join(runDir, config);
    if (!existsSync(dir)) continue;
    const cells: string[] = [];
    const folds = readdirSync(dir)
      .filter((d) => /^fold_\d+$/.test(d))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    for (const f of folds) {
      const file = path.join(dir, f, 'validation', 'summary.json');
      if (!existsSync(file)) continue;
      const s = JSON.parse(await readFile(file, 'utf8')) as OutOfFoldSummary;
      cells.push(`${esc(f)}: ${fmt(s.meanDice)} (${s.cases.length} cases, checkpoint_${esc(s.checkpoint)})`);
    }
    if (cells.length)
      rows.push(`<tr><td>${esc(config)}</td><td style="text-align:left">${cells.join('; ')}</td></tr>`);
  }
  if (rows.length)
    out.push(
      `<h2>Cross-validation: out-of-fold mean Dice</h2><table><tr><th>configuration</th><th>folds</th></tr>${rows.join('')}</table>`,
    );
  const r = await readRecipe(runDir);
  if (r) {
    const body = r.candidates
      .map(
        (c) =>
          `<tr><td style="text-align:left">${esc(c.members.join(' + '))}</td><td>${fmt(c.meanDice)}</td></tr>`,
      )
      .join('');
    const pp = r.postprocessing;
    const steps = describePostprocessing(pp);
    // a recipe written without cross-validation (a budgeted run) says how its post-processing was chosen
    const single = r.postprocessingChoice && r.postprocessingChoice.rule !== 'cross-validation';
    out.push(
      (single
        ? `<h2>Inference recipe without cross-validation</h2><p>chosen: <b>${esc(r.configurations.join(' + '))}</b> ` +
          `(folds ${r.folds.join(', ')}, checkpoint_${esc(r.checkpoint)}); post-processing: ${esc(steps)} (${esc(r.postprocessingChoice!.why)})`
        : `<h2>find-best (${r.cases} out-of-fold cases)</h2><p>chosen: <b>${esc(r.configurations.join(' + '))}</b> ` +
          `(checkpoint_${esc(r.checkpoint)}); ` +
          `post-processing: ${esc(steps)}` +
          (pp ? ` (mean Dice ${fmt(pp.dice.before)} → ${fmt(pp.dice.after)})` : '')) +
        `</p><table><tr><th>candidate</th><th>mean Dice</th></tr>${body}</table>`,
    );
  }
  return out;
}
