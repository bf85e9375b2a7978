// `predict --task B` (and fine-tuning from one task): the model folder of task B's UNet view inside a
// multi-task model, or one line listing the tasks the model has.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST, readManifest } from './manifest.js';

export async function taskModelDir(modelDir: string, task: string): Promise<string> {
  if (!existsSync(path.join(modelDir, MANIFEST)))
    throw new Error(`${modelDir} is not a multi-task model (no ${MANIFEST}): --task needs one`);
  const m = await readManifest(modelDir);
  if (m.kind !== 'multitask')
    throw new Error(
      `${modelDir} is a meta-learned initialisation (${m.kind}) with one foreground head: fine-tune it (medseg finetune DATASET --from ${modelDir}) rather than predict --task`,
    );
  const t = m.tasks.find((x) => x.name === task);
  if (!t) throw new Error(`unknown task '${task}': ${modelDir} has ${m.tasks.map((x) => x.name).join(', ')}`);
  return path.join(modelDir, t.folder);
}
