// Tiny source models for the transfer tests: a synthetic task planned with a narrow network
// (features 4, 8, 16, ...) and trained for a couple of steps, so that fine-tuning and packaging
// run on real checkpoints in seconds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { trainModel } from '../../src/train/index.js';
import type { ConfigurationName } from '../../src/plan/planner.js';

/** The smallest fine-tuning or training run: one step, no final validation (tests of what a run
 * writes, not of what it learns). */
export const ONE_STEP = {
  epochs: 1,
  itersPerEpoch: 1,
  memoryGb: 1,
  threads: 1,
  valPatches: 1,
  validate: false,
} as const;

export const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `medseg-${prefix}-`));

export async function synthDataset(task: string, cases = 4, seed = 1): Promise<string> {
  return (await writeSynthDataset(findTask(task), tmp(`ds-${task}`), { seed, size: 'tiny', cases })).dir;
}

/** Plans `ds` into `model` with narrow networks (every configuration). */
export async function tinyPlans(ds: string, model: string): Promise<void> {
  const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
  for (const c of Object.values(plans.configurations))
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
  writeFileSync(plansFile, JSON.stringify(plans, null, 2));
}

/** A trained tiny model of `task` (configuration `config`, fold 0). */
export async function tinyModel(
  task: string,
  config: ConfigurationName = '3d_fullres',
  o: { ds?: string; epochs?: number } = {},
): Promise<{ ds: string; model: string }> {
  const ds = o.ds ?? (await synthDataset(task));
  const model = path.join(tmp(`src-${task}`), `${task}_model`);
  await tinyPlans(ds, model);
  await trainModel({
    dataset: ds,
    modelDir: model,
    config,
    epochs: o.epochs ?? 1,
    itersPerEpoch: 2,
    memoryGb: 1,
    threads: 1,
    valPatches: 1,
    seed: 1,
  });
  return { ds, model };
}
