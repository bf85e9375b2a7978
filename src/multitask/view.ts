// `predict --task B` (and fine-tuning from one task): the model folder of task B's UNet view inside a
// multi-task model, or one line listing the tasks the model has.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST, readManifest } from './manifest.js';

/** `shownAs`: the name the user gave (a package file, whose unpacked folder is modelDir). */
export async function taskModelDir(modelDir: string, task: string, shownAs = modelDir): Promise<string> {
  if (!existsSync(path.join(modelDir, MANIFEST)))
    throw new Error(`${shownAs} is not a multi-task model (no ${MANIFEST}): --task needs one`);
  const m = await readManifest(modelDir);
  if (m.kind !== 'multitask')
    throw new Error(
      `${shownAs} is a meta-learned initialisation (${m.kind}) with one foreground head: fine-tune it (medseg finetune DATASET --from ${shownAs}) rather than predict --task`,
    );
  const t = m.tasks.find((x) => x.name === task);
  if (!t) throw new Error(`unknown task '${task}': ${shownAs} has ${m.tasks.map((x) => x.name).join(', ')}`);
  const dir = path.join(modelDir, t.folder);
  if (!existsSync(path.join(dir, 'plans.json')))
    throw new Error(
      `${shownAs}: task ${task}'s model folder (${t.folder}) is missing (a package written before packages carried task folders?): package the model folder again`,
    );
  return dir;
}
