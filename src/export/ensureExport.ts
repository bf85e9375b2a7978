// `predict --engine onnx -m MODEL`: the model folder's export (MODEL/export/), reused while it
// matches what would be exported now — the same configurations, folds and checkpoint, and
// checkpoints unchanged since (size and modification time) — else exported again.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ConfigurationName } from '../plan/planner.js';
import { readRecipe } from '../infer/recipe.js';
import { exportModel, exportPlan } from './exportModel.js';
import { isExportFolder, readManifest, type ExportManifest } from './manifest.js';
import type { CheckpointName } from '../train/checkpointChoice.js';

export const modelExportDir = (modelDir: string) => path.join(modelDir, 'export');

export interface EnsureExportOptions {
  modelDir: string;
  config?: ConfigurationName;
  folds?: number[];
  checkpoint?: CheckpointName;
  log?: (s: string) => void;
}

/** Why an existing export cannot be reused, or null when it can. */
function staleReason(
  m: ExportManifest,
  want: { members: string[]; folds: Map<string, number[]>; checkpoint: string },
): string | null {
  if (m.convTranspose !== 'native') return 'exported for WebGPU (depth-to-space)';
  if (m.source.checkpoint !== want.checkpoint)
    return `checkpoint ${m.source.checkpoint}, not ${want.checkpoint}`;
  if (m.members.join(',') !== want.members.join(',')) return `members ${m.members.join(' + ')}`;
  if (m.configurations.length !== want.folds.size) return 'other configurations';
  for (const c of m.configurations) {
    const f = want.folds.get(c.name);
    if (!f || f.join(',') !== c.folds.map((x) => x.fold).join(',')) return `${c.name}: other folds`;
    for (const x of c.folds) {
      const st = existsSync(x.checkpoint.file) ? statSync(x.checkpoint.file) : null;
      if (!st || st.size !== x.checkpoint.bytes || st.mtimeMs !== x.checkpoint.mtimeMs)
        return `${x.checkpoint.file} changed since`;
    }
  }
  return null;
}

/** The folder of an up-to-date export of the model (exported now when needed). */
export async function ensureExport(o: EnsureExportOptions): Promise<string> {
  const log = o.log ?? (() => {});
  const dir = modelExportDir(o.modelDir);
  // the folds libtorch's predict would use (the recipe's, else fold 0), so both engines agree
  const recipe = o.config ? null : await readRecipe(o.modelDir);
  const folds = o.folds ?? recipe?.folds ?? [0];
  const want = await exportPlan({ ...o, folds });
  if (isExportFolder(dir)) {
    let why: string | null;
    try {
      why = staleReason(readManifest(dir), {
        members: want.members,
        folds: want.folds,
        checkpoint: want.checkpoint,
      });
    } catch (e) {
      why = (e as Error).message;
    }
    if (!why) {
      log(`reusing the ONNX export ${dir}`);
      return dir;
    }
    log(`exporting again to ${dir} (${why})`);
  } else log(`exporting to ${dir}`);
  await exportModel({ ...o, folds, output: dir, log });
  return dir;
}
