// The report's section for a multi-task or meta-learned model: each task's cases, sampling share,
// training loss and validation Dice over the epochs (first → last, best), from multitask.json and
// the per-task fields of log.jsonl.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST, readManifest } from '../multitask/manifest.js';
import { taskProbabilities } from '../multitask/sampling.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–';

interface TaskEntry {
  loss?: number | null;
  steps?: number;
  dice?: (number | null)[];
}

const meanDice = (e: TaskEntry | undefined): number | null => {
  const d = (e?.dice ?? []).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : null;
};

export async function multitaskSections(modelDir: string): Promise<string[]> {
  if (!existsSync(path.join(modelDir, MANIFEST))) return [];
  const m = await readManifest(modelDir);
  const logFile = path.join(modelDir, '3d_fullres', 'fold_0', 'log.jsonl');
  const lines = existsSync(logFile)
    ? (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { tasks?: Record<string, TaskEntry> })
    : [];
  const probs = taskProbabilities(
    m.tasks.map((t) => t.cases),
    m.alpha,
  );
  const rows = m.tasks.map((t, i) => {
    const per = lines.map((l) => l.tasks?.[t.name]);
    const dice = per.map(meanDice);
    const valid = dice.filter((d): d is number => d !== null);
    const steps = per.reduce((a, e) => a + (e?.steps ?? 0), 0);
    const loss = per.map((e) => e?.loss).filter((x): x is number => typeof x === 'number');
    return (
      `<tr><td style="text-align:left">${esc(t.name)}</td><td>${t.channels.length}</td><td>${t.labelValues.length - 1}</td>` +
      `<td>${t.cases}</td><td>${(100 * probs[i]!).toFixed(1)}%</td><td>${m.kind === 'multitask' ? steps : '–'}</td>` +
      `<td>${num(loss[0])} → ${num(loss.at(-1))}</td><td>${num(valid[0])} → ${num(valid.at(-1))}</td><td>${num(valid.length ? Math.max(...valid) : null)}</td>` +
      `<td style="text-align:left">${t.stem ? esc(t.stem) : '–'}</td></tr>`
    );
  });
  const what =
    m.kind === 'multitask'
      ? 'multi-task model: shared encoder and decoder, a head per task'
      : `meta-learned initialisation (${esc(m.kind)}): one shared foreground-vs-background head; Dice is the un-adapted foreground Dice`;
  return [
    `<h2>Tasks (${what})</h2><p>tasks drawn ∝ cases^${m.alpha}; patch ${m.patch.join('×')}; body input ${m.bodyChannels} channel(s); ` +
      `this folder's plans are ${esc(m.primary)}'s</p><table><tr><th>task</th><th>channels</th><th>classes</th><th>cases</th>` +
      `<th>share</th><th>steps</th><th>loss first → last</th><th>val Dice first → last</th><th>best</th><th>stem</th></tr>${rows.join('')}</table>`,
  ];
}
