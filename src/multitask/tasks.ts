// Opening several datasets for one shared network: each keeps its own plan (spacing, normalisation,
// channels, labels: medseg's plan and prepare in MODEL/tasks/<name>/), then every task's plans.json
// is given the common patch and network (its own channel and class counts), so each task folder is
// an ordinary model folder for its UNet view. Batches come from a BatchLoader per task.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { plan } from '../plan/run.js';
import { readFingerprint, readPlans } from '../plan/schema.js';
import { writePlans, type Plans } from '../plan/planner.js';
import type { UNetSpec } from '../nn/index.js';
import { prepare } from '../train/prepare.js';
import { loadOrCreateSplits } from '../train/splits.js';
import { BatchLoader } from '../train/loader.js';
import { validationBatches, disposeBatches, type ValidationBatch } from '../train/pseudoDice.js';
import { assertWritableModelFolder } from '../train/preflight.js';
import { hashSeed } from '../common/random.js';
import { writeFileAtomic } from '../io/atomic.js';
import { commonPlan } from './commonPlan.js';
import { taskKey } from './network.js';
import type { ManifestTask } from './manifest.js';

export interface TaskSetOptions {
  datasets: string[];
  modelDir: string;
  seed?: number;
  memoryGb?: number;
  valPatches?: number;
  /** Adjusts the planned common body (tests and benchmarks use tiny widths). */
  body?: (s: UNetSpec) => UNetSpec;
  /** Loader worker threads per task (default 1 for up to 3 tasks, else 0: batches made in the step's thread). */
  workers?: number;
  log?: (s: string) => void;
}

export interface OpenTask {
  name: string;
  dir: string;
  plans: Plans;
  channels: number;
  classes: number;
  cases: number;
  loader: BatchLoader;
  val: ValidationBatch[];
  manifest: Omit<ManifestTask, 'head' | 'stem'>;
}

export interface TaskSet {
  tasks: OpenTask[];
  body: UNetSpec;
  patch: number[];
  batchSize: number;
  close: () => Promise<void>;
}

export const taskFolder = (name: string) => path.join('tasks', name);

/** Names of the tasks: the dataset folders' names (made parameter-safe); duplicates are refused. */
export function taskNames(datasets: string[]): string[] {
  const names = datasets.map((d) => taskKey(path.basename(path.resolve(d))));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`two datasets are both named ${dup}: give each task its own folder name`);
  return names;
}

export async function openTasks(o: TaskSetOptions): Promise<TaskSet> {
  const log = o.log ?? (() => {});
  if (o.datasets.length < 1) throw new Error('give at least one dataset');
  await assertWritableModelFolder(o.modelDir);
  const names = taskNames(o.datasets);
  const dirs = names.map((n) => path.join(o.modelDir, taskFolder(n)));
  // 1. each task's own plan
  const own: Plans[] = [];
  for (const [i, ds] of o.datasets.entries()) {
    const plansFile = path.join(dirs[i]!, 'plans.json');
    if (existsSync(plansFile)) own.push(await readPlans(plansFile));
    else {
      log(`${names[i]}: planning`);
      own.push((await plan(ds, dirs[i]!, { memoryGb: o.memoryGb })).plans);
    }
    if (!own[i]!.configurations['3d_fullres'])
      throw new Error(`${plansFile}: no 3d_fullres configuration (multi-task training is 3D)`);
    if (own[i]!.regions) {
      // the shared heads are softmax over classes: nested regions train as their label values here
      log(
        `${names[i]}: its regions train as the label values ${own[i]!.labelValues.join(', ')} (softmax heads)`,
      );
      const { regions: _, ...classes } = own[i]!;
      own[i] = classes;
    }
  }
  // 2. the common network and patch, written into every task's plans (its own channels and classes)
  const common = commonPlan(
    own.map((p) => p.configurations['3d_fullres']!),
    o.body,
  );
  for (const [i, p] of own.entries()) {
    const c = p.configurations['3d_fullres']!;
    const network = {
      ...common.body,
      inputChannels: p.channelNames.length,
      numClasses: p.labelValues.length,
    };
    const next: Plans = {
      ...p,
      configurations: { '3d_fullres': { ...c, patch: common.patch, batchSize: common.batchSize, network } },
      lowresReason: 'multi-task model: one 3d_fullres configuration shared by every task',
    };
    if (JSON.stringify(next) !== JSON.stringify(p)) await writePlans(dirs[i]!, next);
    own[i] = next;
  }
  log(
    `common patch ${common.patch.join('×')}, batch ${common.batchSize}, ${common.body.features.length} stages, ` +
      `body input ${common.body.inputChannels} channel(s)`,
  );
  // 3. preprocessing, splits, loaders
  const tasks: OpenTask[] = [];
  const close = async () => {
    for (const t of tasks) {
      await t.loader.close();
      disposeBatches(t.val);
    }
  };
  try {
    for (const [i, ds] of o.datasets.entries()) {
      const p = await prepare(ds, dirs[i]!, '3d_fullres', { memoryGb: o.memoryGb, log });
      const splits = await loadOrCreateSplits(
        dirs[i]!,
        p.dataset.training.map((c) => c.id),
      );
      const split = splits[0]!;
      const train = p.cases.filter((c) => split.train.includes(c.parent ?? c.id));
      const valCases = p.cases.filter((c) => split.val.includes(c.parent ?? c.id));
      const fp = await readFingerprint(path.join(dirs[i]!, 'fingerprint.json'));
      tasks.push({
        name: names[i]!,
        dir: dirs[i]!,
        plans: own[i]!,
        channels: own[i]!.channelNames.length,
        classes: own[i]!.labelValues.length,
        cases: train.length,
        loader: new BatchLoader({
          dir: p.preprocessedDir,
          cases: train,
          patch: common.patch,
          batchSize: common.batchSize,
          seed: hashSeed('medseg-multitask', o.seed ?? 0, names[i]!),
          imageChannels: own[i]!.channelNames.length,
          workers: o.workers ?? (o.datasets.length <= 3 ? 1 : 0),
        }),
        val: validationBatches(p.preprocessedDir, valCases, common.patch, o.valPatches ?? 2),
        manifest: {
          name: names[i]!,
          dataset: path.resolve(ds),
          cases: train.length,
          labelValues: own[i]!.labelValues,
          labelNames: fp.labels,
          channels: own[i]!.channelNames,
          folder: taskFolder(names[i]!),
        },
      });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { tasks, body: common.body, patch: common.patch, batchSize: common.batchSize, close };
}

/** The model folder's own plans.json and fingerprint.json: those of the primary task. */
export async function writeTopLevelPlans(modelDir: string, primary: OpenTask, plans?: Plans): Promise<void> {
  await mkdir(modelDir, { recursive: true });
  await writePlans(modelDir, plans ?? primary.plans);
  const fp = await readFile(path.join(primary.dir, 'fingerprint.json'));
  await writeFileAtomic(path.join(modelDir, 'fingerprint.json'), fp);
}
