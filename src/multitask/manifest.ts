// multitask.json: what a multi-task or meta-learned model folder holds — its tasks (dataset, labels,
// channels, the head and stem each uses) and how it was trained. Read through its schema.
import path from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../io/jsonFile.js';

export const MANIFEST = 'multitask.json';

const taskSchema = z.strictObject({
  name: z.string().min(1),
  dataset: z.string(),
  cases: z.int().min(1),
  labelValues: z.array(z.int().min(0)).min(1),
  /** label name → values (the dataset's) */
  labelNames: z.record(z.string(), z.array(z.int().min(0))),
  channels: z.array(z.string()).min(1),
  /** parameter prefix of its head, e.g. heads.Liver.seg_layers */
  head: z.string(),
  /** parameter name of its stem, null when it feeds the body directly */
  stem: z.string().nullable(),
  /** its own model folder (plans, preprocessed data, UNet view checkpoints), relative to the model */
  folder: z.string(),
});

export const manifestSchema = z.strictObject({
  format: z.literal(1),
  kind: z.enum(['multitask', 'reptile', 'fomaml']),
  /** the task whose head is also stored as decoder.seg_layers (plans.json is its) */
  primary: z.string(),
  bodyChannels: z.int().min(1),
  patch: z.array(z.int().min(1)),
  alpha: z.number().min(0),
  tasks: z.array(taskSchema).min(1),
  /** meta-training settings (kind reptile / fomaml) */
  meta: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestTask = z.infer<typeof taskSchema>;

export const readManifest = (modelDir: string): Promise<Manifest> =>
  readJsonFile(path.join(modelDir, MANIFEST), manifestSchema);
