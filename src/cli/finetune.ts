// `medseg finetune DATASET --from MODEL [-m OUT] [--freeze encoder|all-but-heads] ...` and train's options.
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseInteger, FOLD_RANGE } from './args.js';
import { assertWritableModelFolder } from '../train/preflight.js';
import { TRAIN_ARGS, trainOptionsFromArgs } from './train.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import type { PatchFrom } from '../transfer/plans.js';

const HELP = `usage: medseg finetune DATASET --from MODEL [--model OUT] [--freeze encoder|all-but-heads]
                       [--unfreeze-after N] [--lr X] [--warmup N] [--source-config NAME] [--source-fold F]
                       [--source-task NAME] [--patch source|target] [--fresh-heads]
                       and train's options: [--config NAME] [--fold F|all] [--epochs N] [--iters-per-epoch N]
                       [--budget 30m] [--optimizer sgd|adamw] [--bf16 | --fp16] [--resume] [--seed N]
                       [--threads N] [--memory-gb N] [--no-validation] [--validation-checkpoint latest|best]
                       [--device auto|cpu|cuda|cuda:N]

Trains DATASET starting from MODEL (a model folder or a .medseg package). The target's plans keep the
source's network and patch and take the target's spacing, normalisation, channels and labels
(OUT/plans.json, an ordinary model: train, predict and find-best use it as any other). --patch target
takes the target's own planned patch instead, fitted to the source's network (each axis a multiple
of its strides, shrunk where the network needs more memory than the target's plan allows): for a
source planned on smaller images, e.g. a multi-task model, whose patch is its smallest task's (on BraTS
from the 12-task model: +0.04 / +0.09 Dice at N = 1 / 2 cases, bench/RESULTS.md). Weights load
by name and shape with a printed table: new segmentation heads when the label set differs (a binary
source head is expanded into a target of more classes: background row, the foreground row for each
class, bias − ln(K−1); --fresh-heads starts them fresh instead); when the channel count differs, a new first convolution whose filters are the mean of the source's input
filters, scaled by c_src/c_new; everything else listed. Recorded in OUT/transfer.json.
Defaults: lr 1e-3 (SGD; AdamW 1e-4), a tenth of training from scratch, so the first updates refine
the pre-trained features rather than overwrite them; a linear warm-up of 50 steps (a tenth of a
shorter run). On short few-shot runs (1000 steps on one or two cases, bench/RESULTS.md) scratch's
schedule measured better in 4 of 5 columns (not from one spinal-cord scan): --lr 0.01 --warmup 0. --freeze holds the loaded encoder (or everything but the segmentation heads) fixed,
for the whole run or the first N epochs (--unfreeze-after N); new or adapted tensors always train.
MODEL may be a model of train-multi or meta-train (folder or package): the run starts from one task's
network (the shared body, that task's head, its input stem folded exactly into the first
convolution): --source-task NAME, else the first task with the target's channel count (the primary
task preferred); the table lists the other tasks' heads and stems as skipped.
MODEL may also be the name of an initialisation shipped with medseg (models/NAME.medseg with its
provenance models/NAME.json, e.g. --from general); none is shipped yet (see bench/RESULTS.md).
OUT defaults to medseg_results/<DATASET>_from_<MODEL>.`;

/** Epoch and step counts that may be 0 (no warm-up; unfrozen from the start). */
const STEPS = { min: 0, max: 100_000_000 };

export const command: Command = {
  name: 'finetune',
  summary: 'train a dataset starting from another model (folder or package)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...TRAIN_ARGS,
        from: { type: 'string' },
        freeze: { type: 'string' },
        'unfreeze-after': { type: 'string' },
        warmup: { type: 'string' },
        'source-config': { type: 'string' },
        'source-fold': { type: 'string' },
        'source-task': { type: 'string' },
        patch: { type: 'string' },
        'fresh-heads': { type: 'boolean' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const ds = positionals[0];
    if (!ds) throw new UsageError(`a dataset folder is required\n${HELP}`);
    if (!values.from)
      throw new UsageError(`--from MODEL is required (a model folder or .medseg package)\n${HELP}`);
    if (values.freeze !== undefined && values.freeze !== 'encoder' && values.freeze !== 'all-but-heads')
      throw new UsageError(`--freeze must be encoder or all-but-heads, got '${values.freeze}'`);
    if (values['unfreeze-after'] !== undefined && values.freeze === undefined)
      throw new UsageError('--unfreeze-after needs --freeze encoder|all-but-heads');
    const patchFrom = values.patch as PatchFrom | undefined;
    if (patchFrom !== undefined && patchFrom !== 'source' && patchFrom !== 'target')
      throw new UsageError(`--patch must be source or target, got '${values.patch}'`);
    const sourceConfig = values['source-config'] as ConfigurationName | undefined;
    if (sourceConfig !== undefined && !CONFIGURATION_NAMES.includes(sourceConfig))
      throw new UsageError(`unknown --source-config '${sourceConfig}'`);
    const name = path.basename(path.resolve(values.from)).replace(/\.medseg$/, '');
    const { options, fold } = await trainOptionsFromArgs(
      values,
      ds,
      path.join('medseg_results', `${path.basename(path.resolve(ds))}_from_${name}`),
    );
    // before libtorch loads and the dataset is read: a folder training cannot write to fails now
    await assertWritableModelFolder(options.modelDir);
    const { finetune } = await import('../transfer/finetune.js');
    const { results } = await finetune({
      ...options,
      fold,
      from: values.from,
      freeze: values.freeze as 'encoder' | 'all-but-heads' | undefined,
      unfreezeAfter: parseInteger(values['unfreeze-after'], 'unfreeze-after', STEPS),
      warmupSteps: parseInteger(values.warmup, 'warmup', STEPS),
      sourceConfig,
      sourceFold: parseInteger(values['source-fold'], 'source-fold', FOLD_RANGE),
      sourceTask: values['source-task'],
      patchFrom,
      freshHeads: values['fresh-heads'],
    });
    for (const r of results) {
      console.log(
        `fine-tuned ${r.epochs} epochs; best EMA pseudo-Dice ${r.bestEmaDice.toFixed(3)}; checkpoints in ${r.foldDir}`,
      );
    }
    return 0;
  },
};
