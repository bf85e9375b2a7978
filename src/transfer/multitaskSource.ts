// Fine-tuning from a multi-task or meta-learned model (train-multi, meta-train): the source network is
// one task's UNet view of it (multitask/load.ts: the shared body, that task's head as
// decoder.seg_layers and its input stem folded exactly into the first convolution), so the weights
// that start the target are the ones that task was trained with. The task is the one with the
// target's channel count (the primary task first), or --source-task; the other tasks' heads and
// stems are listed in the weight table as skipped, and the folded stem as folded.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '../engine/index.js';
import { loadSafetensors, weightsOf, type UNet } from '../nn/index.js';
import { loadTaskNetwork } from '../multitask/load.js';
import { MANIFEST, readManifest, type Manifest } from '../multitask/manifest.js';
import { firstConvName, isHead, type WeightRow } from './weights.js';

export const isMultiTaskModel = (dir: string): boolean => existsSync(path.join(dir, MANIFEST));

export { readManifest as readMultiTaskManifest };

/** The task whose view starts the target: `wanted`, else the first with the target's channel count
 * (the primary task preferred), else the primary task (its first convolution is then adapted). */
export function chooseSourceTask(m: Manifest, from: string, channels: number, wanted?: string): string {
  if (wanted !== undefined) {
    if (!m.tasks.some((t) => t.name === wanted))
      throw new Error(`unknown task '${wanted}': ${from} has ${m.tasks.map((t) => t.name).join(', ')}`);
    return wanted;
  }
  const primary = m.tasks.find((t) => t.name === m.primary)!;
  if (primary.channels.length === channels) return primary.name;
  return (m.tasks.find((t) => t.channels.length === channels) ?? primary).name;
}

/** Whether the task's head fits the target's labels: a multi-task head when the label sets are the
 * same; a meta-learned model's one foreground-vs-background head when the target is binary. */
export function headFits(m: Manifest, task: string, targetLabels: Record<string, number[]>): boolean {
  const key = (l: Record<string, number[]>) =>
    JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (m.kind !== 'multitask') {
    const values = new Set(Object.values(targetLabels).flat());
    return values.size === 2 && values.has(0) && values.has(1);
  }
  return key(m.tasks.find((t) => t.name === task)!.labelNames) === key(targetLabels);
}

/**
 * Task `task`'s UNet view of the multi-task checkpoint `file` (in model folder `dir`) and what the
 * weight table should say about the checkpoint's per-task tensors: `notes` (target name → why, for
 * the rows loadTransferred writes) and `extra` rows (the folded stem, the other tasks' heads and stems).
 */
export async function taskSource(
  dir: string,
  file: string,
  task: string,
): Promise<{ view: UNet; notes: Map<string, string>; extra: WeightRow[] }> {
  const m = await readManifest(dir);
  const which = path.basename(file).includes('latest') ? 'latest' : 'best';
  const view = await loadTaskNetwork(dir, task, which);
  const t = m.tasks.find((x) => x.name === task)!;
  const head = `heads.${m.kind === 'multitask' ? t.name : 'foreground'}.seg_layers.`;
  const stem = t.stem;
  const { tensors } = await loadSafetensors(file);
  const shapes = new Map<string, number[]>(
    [...weightsOf(tensors)].map(([k, x]: [string, Tensor]) => [k, [...x.shape]]),
  );
  for (const x of tensors.values()) x.dispose();
  const first = firstConvName(view);
  const notes = new Map<string, string>();
  notes.set(first, stem ? `task ${task}'s stem ${stem} folded in` : `task ${task}'s first convolution`);
  for (const [name] of view.namedParameters())
    if (isHead(name))
      notes.set(name, `task ${task}'s head ${head}${name.slice('decoder.seg_layers.'.length)}`);
  const extra: WeightRow[] = [];
  for (const [name, shape] of shapes) {
    if (name === stem)
      extra.push({
        name,
        fate: 'folded',
        source: shape,
        target: null,
        why: `into ${first} (W'[f,c] = Σ_C W[f,C]·S[C,c], exact: the stem has no bias)`,
      });
    else if (name.startsWith('stems.') || (name.startsWith('heads.') && !name.startsWith(head))) {
      const owner = name.split('.')[1];
      extra.push({
        name,
        fate: 'skipped',
        source: shape,
        target: null,
        why: `another task's ${name.startsWith('stems.') ? 'stem' : 'head'} (${owner}; fine-tuning from ${task})`,
      });
    }
  }
  return { view, notes, extra };
}
