// `medseg train-multi A B C -m MODEL`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import {
  parseInteger,
  parseNumber,
  COUNT_RANGE,
  LR_RANGE,
  MEMORY_GB_RANGE,
  SEED_RANGE,
  THREADS_RANGE,
} from './args.js';
import { assertWritableModelFolder } from '../train/preflight.js';

const ALPHA_RANGE = { min: 0, max: 10 };

const HELP = `usage: medseg train-multi DATASET DATASET... -m MODEL [--epochs N] [--iters-per-epoch N]
                    [--alpha 0.5] [--lr X] [--bf16] [--seed N] [--threads N] [--memory-gb N] [--resume]

One network over several datasets: a shared encoder and decoder, a segmentation head per task (its
own label set) and, for a task whose channel count differs from the most any task has, a bias-free
1×1×1 convolution from its channels to that width (folded into the first convolution of the task's
model, exactly). Each dataset keeps its own plan (spacing, normalisation: MODEL/tasks/<name>/); the
patch is the per-axis minimum of the tasks' 3d_fullres patches and the network is planned for it.
Each batch comes from one task, drawn with probability ∝ cases^alpha (alpha 0.5: small tasks are
not drowned). log.jsonl has each task's loss and validation Dice per epoch (shown by report).
Predict with one task's head: medseg predict -m MODEL --task NAME ...; fine-tune from the body:
medseg finetune DATASET --from MODEL. Defaults: 100 epochs × 250 iterations, SGD 0.01 (nnU-Net's).
--resume continues MODEL's run from its checkpoint_latest (network, optimiser state, epoch, seed;
the task order and batches follow from the seed), as train --resume does: give the same datasets.`;

export const command: Command = {
  name: 'train-multi',
  summary: 'train one network over several datasets (shared body, per-task heads)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        epochs: { type: 'string' },
        'iters-per-epoch': { type: 'string' },
        alpha: { type: 'string' },
        lr: { type: 'string' },
        bf16: { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        seed: { type: 'string' },
        threads: { type: 'string' },
        'memory-gb': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length < 1) throw new UsageError(`at least one dataset folder is required\n${HELP}`);
    if (!values.model) throw new UsageError(`-m MODEL is required\n${HELP}`);
    const opts = {
      datasets: positionals,
      modelDir: values.model,
      epochs: parseInteger(values.epochs, 'epochs', COUNT_RANGE),
      itersPerEpoch: parseInteger(values['iters-per-epoch'], 'iters-per-epoch', COUNT_RANGE),
      alpha: parseNumber(values.alpha, 'alpha', ALPHA_RANGE),
      initialLr: parseNumber(values.lr, 'lr', LR_RANGE),
      bf16: values.bf16,
      resume: values.resume,
      seed: parseInteger(values.seed, 'seed', SEED_RANGE),
      threads: parseInteger(values.threads, 'threads', THREADS_RANGE),
      memoryGb: parseNumber(values['memory-gb'], 'memory-gb', MEMORY_GB_RANGE),
      log: (s: string) => process.stderr.write(`${s}\n`),
    };
    await assertWritableModelFolder(opts.modelDir);
    const { trainMulti } = await import('../multitask/train.js');
    const r = await trainMulti(opts);
    const last = r.history.at(-1);
    console.log(
      `trained ${r.history.length} epochs over ${Object.keys(r.probabilities).length} tasks; ` +
        `last validation Dice ${
          last
            ? Object.entries((last as { tasks: Record<string, { dice: number[] }> }).tasks)
                .map(([t, v]) => `${t} ${v.dice.map((d) => d.toFixed(3)).join('/')}`)
                .join(', ')
            : '-'
        }; model in ${r.modelDir}`,
    );
    return 0;
  },
};
