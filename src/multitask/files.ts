// What a multi-task or meta-learned model folder is written as: the network's checkpoints in
// MODEL/3d_fullres/fold_0/ (body under UNet's names, heads.*, stems.*, the primary head again as
// decoder.seg_layers.*), multitask.json, and each task's UNet view in MODEL/tasks/<name>/3d_fullres/
// fold_0/ (what `predict --task` and fine-tuning from one task read).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../nn/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { runFiles } from '../train/run.js';
import { MANIFEST, type Manifest } from './manifest.js';
import { taskView, type MultiTaskNet } from './network.js';

export const modelFiles = (modelDir: string) => runFiles(modelDir, '3d_fullres', 0);

export async function writeManifest(modelDir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(path.join(modelDir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/** Head and stem parameter names of a task (for multitask.json). */
export function taskParams(net: MultiTaskNet, task: string): { head: string; stem: string | null } {
  const t = net.task(task);
  return { head: `heads.${t.head}.seg_layers`, stem: net.stems.has(task) ? `stems.${task}.weight` : null };
}

/**
 * Writes every task's UNet view of the best and latest checkpoints (the network ends holding latest).
 */
export async function writeTaskViews(modelDir: string, net: MultiTaskNet, manifest: Manifest): Promise<void> {
  const files = modelFiles(modelDir);
  for (const which of ['best', 'latest'] as const) {
    const file = which === 'best' ? files.best : files.latest;
    if (!existsSync(file)) continue;
    const state = await loadCheckpoint(file, net);
    for (const t of manifest.tasks) {
      const view = taskView(net, t.name);
      try {
        const f = runFiles(path.join(modelDir, t.folder), '3d_fullres', 0);
        await saveCheckpoint(which === 'best' ? f.best : f.latest, view, null, state);
      } finally {
        view.dispose();
      }
    }
  }
}
