// Fine-tuning (`medseg finetune DATASET --from MODEL`): the target's plans made from the source's
// network and the target's data (plans.ts), the source's weights loaded by name and shape
// (weights.ts) when the run starts, optional freezing for the first epochs, a learning-rate
// warm-up, and a lower default learning rate; everything else is the ordinary trainer, so the
// result is an ordinary model folder. What was transferred is recorded in MODEL/transfer.json.
// A multi-task or meta-learned source starts the target from one task's view of it (its stem folded
// into the first convolution, its head as the segmentation head): multitaskSource.ts.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertDatasetValid } from '../dataset/check.js';
import { computeFingerprint, writeFingerprint, type Fingerprint } from '../plan/fingerprint.js';
import {
  CONFIGURATION_NAMES,
  planDataset,
  writePlans,
  type ConfigurationName,
  type Plans,
} from '../plan/planner.js';
import { readFingerprint, readPlans } from '../plan/schema.js';
import { loadSafetensors, weightsOf } from '../nn/index.js';
import type { UNet } from '../nn/unet.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { TrainOptions, TrainResult } from '../train/types.js';
import { train, trainFolds } from '../crossval/train.js';
import { recipeAfterBudgetedRun, type SingleRunRecipeResult } from '../evaluate/singleRunRecipe.js';
import { resolveModel } from './open.js';
import { sha256File } from './tar.js';
import { transferPlans, type PatchFrom } from './plans.js';
import { formatWeightTable, frozenNames, loadTransferred, setFrozen, type WeightRow } from './weights.js';
import {
  chooseSourceTask,
  headFits,
  isMultiTaskModel,
  readMultiTaskManifest,
  taskSource,
} from './multitaskSource.js';
import { DEFAULT_CHECKPOINT, otherCheckpoint } from '../train/checkpointChoice.js';

export type FreezeMode = 'encoder' | 'all-but-heads';

export interface FinetuneOptions extends Omit<TrainOptions, 'fold'> {
  /** A model folder or package (.medseg) to start from. */
  from: string;
  /** undefined: fold 0; 'all': every fold of the target's split. */
  fold?: number | 'all';
  /** The source configuration (default: the target's if the source trained it, else its only one). */
  sourceConfig?: ConfigurationName;
  /** The source fold whose weights start the run (default: the lowest trained). */
  sourceFold?: number;
  /** A multi-task / meta-learned source: the task whose view starts the run (default: the first
   * with the target's channel count, the primary task preferred; see multitaskSource.ts). */
  sourceTask?: string;
  /** Hold the loaded encoder (or everything but the heads) fixed ... */
  freeze?: FreezeMode;
  /** ... for this many epochs (default: the whole run). */
  unfreezeAfter?: number;
  /** Where packages are unpacked (default ~/.cache/medseg). */
  cache?: string;
  /** The patch: the source's (default, as its plans were trained) or the target's own plan fitted
   * to the source's network (plans.ts, targetPatchOnNetwork). */
  patchFrom?: PatchFrom;
  /** Start new segmentation heads fresh even where a binary source head could be expanded into the
   * target's classes (a source whose foreground is rare starts every class near zero). */
  freshHeads?: boolean;
}

/** MODEL/transfer.json: where the weights came from and what became of each tensor. */
export interface TransferRecord {
  version: 1;
  source: {
    model: string;
    dir: string;
    config: ConfigurationName;
    fold: number;
    checkpoint: string;
    sha256: string;
    /** A multi-task / meta-learned source: its kind and the task whose view started the run. */
    kind?: 'multitask' | 'reptile' | 'fomaml';
    task?: string;
  };
  config: ConfigurationName;
  /** Where the patch came from (absent in records written before the option: the source). */
  patchFrom?: PatchFrom;
  /** Binary source heads started fresh instead of expanded (absent in older records: false). */
  freshHeads?: boolean;
  freeze: FreezeMode | null;
  unfreezeAfter: number | null;
  initialLr: number;
  warmupSteps: number;
  /** Written when a run starts (null until then). */
  weights: WeightRow[] | null;
}

/** Fine-tuning's default learning rates: a tenth of the from-scratch ones (SGD 1e-2, AdamW 1e-3),
 * so the first updates refine the pre-trained features instead of overwriting them. */
export const FINETUNE_LR = { sgd: 1e-3, adamw: 1e-4 } as const;

/** Default warm-up: 50 steps, or a tenth of a shorter run. */
export function defaultWarmup(epochs?: number, itersPerEpoch?: number): number {
  return epochs && itersPerEpoch ? Math.min(50, Math.ceil(0.1 * epochs * itersPerEpoch)) : 50;
}

/** The fold's checkpoint that predict would use (the last epoch's), else the other one. */
function checkpointOf(dir: string, config: string, fold: number): string | null {
  for (const c of [DEFAULT_CHECKPOINT, otherCheckpoint(DEFAULT_CHECKPOINT)]) {
    const f = path.join(dir, config, `fold_${fold}`, `checkpoint_${c}.safetensors`);
    if (existsSync(f)) return f;
  }
  return null;
}

function trainedFolds(dir: string, config: string): number[] {
  if (!existsSync(path.join(dir, config))) return [];
  return readdirSync(path.join(dir, config))
    .map((d) => /^fold_(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .filter((f) => checkpointOf(dir, config, f) !== null)
    .sort((a, b) => a - b);
}

/** The source configuration, fold and checkpoint file. */
export function chooseSource(
  dir: string,
  from: string,
  plans: Plans,
  target: ConfigurationName,
  o: { sourceConfig?: ConfigurationName; sourceFold?: number },
): { config: ConfigurationName; fold: number; file: string } {
  const trained = CONFIGURATION_NAMES.filter((c) => plans.configurations[c] && trainedFolds(dir, c).length);
  if (!trained.length) throw new Error(`${from}: no trained checkpoint in any configuration`);
  let config: ConfigurationName;
  if (o.sourceConfig) {
    if (!trained.includes(o.sourceConfig))
      throw new Error(`${from}: no trained ${o.sourceConfig} (it has ${trained.join(', ')})`);
    config = o.sourceConfig;
  } else if (trained.includes(target)) config = target;
  else if (trained.length === 1) config = trained[0]!;
  else throw new Error(`${from} has ${trained.join(', ')} but no ${target}: choose one with --source-config`);
  const folds = trainedFolds(dir, config);
  const fold = o.sourceFold ?? folds[0]!;
  const file = checkpointOf(dir, config, fold);
  if (!file)
    throw new Error(`${from}: ${config} fold ${fold} has no checkpoint (it has fold ${folds.join(', ')})`);
  return { config, fold, file };
}

const labelKey = (labels: Record<string, number[]>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

async function readJson<T>(file: string): Promise<T> {
  if (!existsSync(file)) throw new Error(`${file}: missing (not a medseg model folder?)`);
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** Sets up the target model folder (fingerprint, transferred plans, transfer.json) and returns the record. */
async function prepareTarget(o: FinetuneOptions, log: (s: string) => void) {
  const srcDir = await resolveModel(o.from, { cache: o.cache, log });
  const srcPlans = await readPlans(path.join(srcDir, 'plans.json'));
  const srcFp = await readFingerprint(path.join(srcDir, 'fingerprint.json'));
  const targetConfig = o.config ?? '3d_fullres';
  const src = chooseSource(srcDir, o.from, srcPlans, targetConfig, o);
  const sha256 = await sha256File(src.file);
  const dataset = await assertDatasetValid(o.dataset);
  const multi = isMultiTaskModel(srcDir) ? await readMultiTaskManifest(srcDir) : null;
  if (!multi && o.sourceTask !== undefined)
    throw new Error(
      `${o.from} is a single-task model: --source-task needs a model of train-multi or meta-train`,
    );
  await mkdir(o.modelDir, { recursive: true });
  const fpFile = path.join(o.modelDir, 'fingerprint.json');
  let fp: Fingerprint;
  if (existsSync(fpFile)) fp = await readFingerprint(fpFile);
  else {
    log('fingerprint: reading every case once');
    fp = await computeFingerprint(dataset, (i, n, id) => log(`fingerprint ${i + 1}/${n} ${id}`));
    await writeFingerprint(o.modelDir, fp);
  }
  const plansFile = path.join(o.modelDir, 'plans.json');
  const recordFile = path.join(o.modelDir, 'transfer.json');
  const opt = o.optimizer ?? 'sgd';
  let initialLr = o.initialLr ?? FINETUNE_LR[opt];
  let warmupSteps = o.warmupSteps ?? defaultWarmup(o.epochs, o.itersPerEpoch);
  let freeze = o.freeze ?? null;
  let unfreezeAfter = o.unfreezeAfter ?? null;
  let record: TransferRecord;
  if (existsSync(plansFile)) {
    if (!existsSync(recordFile))
      throw new Error(
        `${plansFile} exists and was not written by finetune: choose another model folder (-m)`,
      );
    record = await readJson<TransferRecord>(recordFile);
    if (record.source.sha256 !== sha256)
      throw new Error(
        `${o.modelDir} was fine-tuned from another source (${record.source.model}, ${record.source.config} fold ${record.source.fold}): choose another model folder (-m)`,
      );
    // a resumed run (or another fold of the same folder) keeps the settings it started with unless
    // they are given again: the schedule's lr0 and warm-up are not in the checkpoint
    if (o.patchFrom !== undefined && o.patchFrom !== (record.patchFrom ?? 'source'))
      throw new Error(
        `${o.modelDir} was fine-tuned with the ${record.patchFrom ?? 'source'}'s patch, not the ${o.patchFrom}'s: choose another model folder (-m)`,
      );
    // every fold of the folder starts its heads the same way
    if (o.freshHeads !== undefined && o.freshHeads !== (record.freshHeads ?? false))
      throw new Error(
        `${o.modelDir} was fine-tuned ${record.freshHeads ? 'with' : 'without'} --fresh-heads: choose another model folder (-m)`,
      );
    if (o.sourceTask !== undefined && o.sourceTask !== record.source.task)
      throw new Error(
        `${o.modelDir} was fine-tuned from task ${record.source.task ?? '(none)'} of ${record.source.model}, not ${o.sourceTask}: choose another model folder (-m)`,
      );
    initialLr = o.initialLr ?? record.initialLr;
    warmupSteps = o.warmupSteps ?? record.warmupSteps;
    freeze = o.freeze ?? record.freeze;
    unfreezeAfter = o.unfreezeAfter ?? (o.freeze ? null : record.unfreezeAfter);
  } else {
    const planned = planDataset(fp, { memoryGb: o.memoryGb });
    const plans = transferPlans(
      srcPlans.configurations[src.config]!,
      `${o.from} (${src.config})`,
      planned,
      targetConfig,
      o.patchFrom,
    );
    await writePlans(o.modelDir, plans);
    record = {
      version: 1,
      source: {
        model: o.from,
        dir: srcDir,
        config: src.config,
        fold: src.fold,
        checkpoint: src.file,
        sha256,
        ...(multi
          ? {
              kind: multi.kind,
              task: chooseSourceTask(multi, o.from, dataset.channelNames.length, o.sourceTask),
            }
          : {}),
      },
      config: targetConfig,
      patchFrom: o.patchFrom ?? 'source',
      freshHeads: o.freshHeads ?? false,
      freeze,
      unfreezeAfter,
      initialLr,
      warmupSteps,
      weights: null,
    };
    await writeFileAtomic(recordFile, JSON.stringify(record, null, 2));
    const net = plans.configurations[targetConfig]!.network;
    log(
      `plans: ${src.config}'s network (${net.architecture}, ${net.features.length} stages, features ${net.features.join(',')}) and ` +
        `${o.patchFrom === 'target' ? "the target's own patch fitted to it" : 'patch'} [${plans.configurations[targetConfig]!.patch.join(',')}] ` +
        `with the target's spacing, normalisation, ${plans.channelNames.length} channel(s) and ${plans.labelValues.length} classes → ${plansFile}`,
    );
  }
  const task = record.source.task;
  if (multi && task)
    log(
      `source: task ${task} of the ${multi.kind === 'multitask' ? 'multi-task model' : `meta-learned (${multi.kind}) initialisation`} ` +
        `(tasks ${multi.tasks.map((t) => `${t.name}: ${t.channels.length} ch`).join(', ')}): its body, head and folded stem`,
    );
  const newLabels =
    multi && task ? !headFits(multi, task, fp.labels) : labelKey(srcFp.labels) !== labelKey(fp.labels);
  // a binary softmax head (a meta-learned model's shared foreground head, or a background/one-label
  // source) starts a softmax target of more classes by expansion (weights.ts, `expanded`)
  const srcBinary =
    multi && task
      ? multi.kind !== 'multitask' || isBinaryLabelSet(multi.tasks.find((x) => x.name === task)!.labelNames)
      : !srcPlans.regions && srcPlans.labelValues.length === 2;
  const targetPlans = await readPlans(plansFile);
  const expandBinaryHeads =
    !record.freshHeads &&
    newLabels &&
    srcBinary &&
    !targetPlans.regions &&
    targetPlans.labelValues.length > 2;
  return {
    record,
    recordFile,
    newLabels,
    expandBinaryHeads,
    initialLr,
    warmupSteps,
    targetConfig,
    freeze,
    unfreezeAfter: unfreezeAfter ?? undefined,
  };
}

export interface FinetuneResult {
  results: TrainResult[];
  record: TransferRecord;
  /** The inference recipe a budgeted run writes as `train` does (src/evaluate/singleRunRecipe.ts). */
  recipe: SingleRunRecipeResult;
}

/** Background and one label, each a single value (not regions). */
const isBinaryLabelSet = (labels: Record<string, number[]>): boolean => {
  const sets = Object.values(labels);
  return sets.length === 2 && sets.every((v) => v.length === 1);
};

/** Fine-tunes fold `o.fold` (or every fold) of the target dataset from `o.from`. */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const log = o.log ?? (() => {});
  if (o.unfreezeAfter !== undefined && !o.freeze)
    throw new Error('finetune: --unfreeze-after needs --freeze encoder|all-but-heads');
  const t = await prepareTarget(o, log);
  const { record, recordFile } = t;
  let rows: WeightRow[] | null = record.weights;
  const initialize = async (net: UNet) => {
    if (record.source.task) {
      const s = await taskSource(record.source.dir, record.source.checkpoint, record.source.task);
      try {
        rows = [
          ...loadTransferred(net, s.view.stateDict(), {
            newLabels: t.newLabels,
            expandBinaryHeads: t.expandBinaryHeads,
            sourceName: `${record.source.checkpoint} (task ${record.source.task})`,
            notes: s.notes,
          }),
          ...s.extra,
        ];
      } finally {
        s.view.dispose();
      }
    } else {
      const { tensors } = await loadSafetensors(record.source.checkpoint);
      try {
        rows = loadTransferred(net, weightsOf(tensors), {
          newLabels: t.newLabels,
          expandBinaryHeads: t.expandBinaryHeads,
          sourceName: record.source.checkpoint,
        });
      } finally {
        for (const x of tensors.values()) x.dispose();
      }
    }
    log(formatWeightTable(rows));
    record.weights = rows;
    await writeFileAtomic(recordFile, JSON.stringify(record, null, 2));
    await o.initialize?.(net);
  };
  const { freeze, unfreezeAfter } = t;
  const beforeEpoch = (epoch: number, net: UNet) => {
    if (freeze) {
      if (!rows) throw new Error(`${recordFile}: no weight table (the run was not started by finetune)`);
      const frozen = unfreezeAfter === undefined || epoch < unfreezeAfter;
      const names = frozen ? frozenNames(rows, freeze) : new Set<string>();
      setFrozen(net, names);
      if (epoch === 0 || epoch === unfreezeAfter)
        log(
          frozen
            ? `freeze ${freeze}: ${names.size} parameter tensors held fixed`
            : 'unfrozen: every parameter trains',
        );
    }
    o.beforeEpoch?.(epoch, net);
  };
  const opts: TrainOptions = {
    ...o,
    config: t.targetConfig,
    fold: undefined,
    initialLr: t.initialLr,
    warmupSteps: t.warmupSteps,
    initialize,
    beforeEpoch,
  };
  log(
    `fine-tuning from ${o.from} (${record.source.task ? `task ${record.source.task}, ` : ''}${record.source.config} fold ${record.source.fold}): lr ${t.initialLr} (${o.optimizer ?? 'sgd'}), warm-up ${t.warmupSteps} steps` +
      (freeze
        ? `, freeze ${freeze}${unfreezeAfter === undefined ? '' : ` for ${unfreezeAfter} epoch(s)`}`
        : ''),
  );
  const results = o.fold === 'all' ? await trainFolds(opts) : [await train({ ...opts, fold: o.fold ?? 0 })];
  // a budgeted fine-tuning run cannot afford find-best's folds either: the same recipe as `train`
  const recipe = await recipeAfterBudgetedRun({
    dataset: o.dataset,
    modelDir: o.modelDir,
    config: t.targetConfig,
    fold: o.fold ?? 0,
    budgetSeconds: o.budgetSeconds,
    log,
  });
  return { results, record, recipe };
}
