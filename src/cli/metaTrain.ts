// `medseg meta-train A B C -m INIT`
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

const HELP = `usage: medseg meta-train DATASET DATASET... -m INIT [--algorithm reptile|fomaml]
                    [--epochs 50] [--iters-per-epoch 20] [--inner-steps 5] [--inner-lr 0.01]
                    [--outer-step 1] [--alpha 0.5] [--seed N] [--threads N] [--memory-gb N] [--resume]

A meta-learned initialisation for fine-tuning (medseg finetune TARGET --from INIT). Each
meta-iteration draws a task (∝ cases^alpha), takes --inner-steps ordinary training steps on its
batches from θ to θ' (SGD, momentum 0.9, fresh per task), then Reptile moves θ ← θ + ε(θ' − θ)
(FOMAML: θ ← θ − ε·lr·∇L(θ') on one more batch); ε starts at --outer-step and falls linearly to 0.
Every task is learned as foreground vs background through one shared head (so the head is
meta-learned too; fine-tuning replaces it where the target's labels differ); channel counts that
differ go through per-task 1×1×1 stems. The folder's checkpoint is the final θ.
Why these defaults: 5 inner steps is Reptile's few-shot setting; lr 0.01 is the trainer's; ε 1 → 0
is Nichol et al.'s schedule.
--resume continues INIT's interrupted run exactly from its checkpoint_latest (θ, epoch, RNG; the
task order, batches and ε follow from the seed and the step): give the same datasets in the same
order; the other settings are the run's (one given that differs is refused).`;

export const command: Command = {
  name: 'meta-train',
  summary: 'meta-learn an initialisation over several datasets (Reptile / FOMAML)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        algorithm: { type: 'string' },
        resume: { type: 'boolean', default: false },
        epochs: { type: 'string' },
        'iters-per-epoch': { type: 'string' },
        'inner-steps': { type: 'string' },
        'inner-lr': { type: 'string' },
        'outer-step': { type: 'string' },
        alpha: { type: 'string' },
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
    if (!values.model) throw new UsageError(`-m INIT is required\n${HELP}`);
    if (values.algorithm !== undefined && values.algorithm !== 'reptile' && values.algorithm !== 'fomaml')
      throw new UsageError(`--algorithm must be reptile or fomaml, not '${values.algorithm}'`);
    const opts = {
      datasets: positionals,
      modelDir: values.model,
      algorithm: values.algorithm as 'reptile' | 'fomaml' | undefined,
      resume: values.resume,
      epochs: parseInteger(values.epochs, 'epochs', COUNT_RANGE),
      itersPerEpoch: parseInteger(values['iters-per-epoch'], 'iters-per-epoch', COUNT_RANGE),
      innerSteps: parseInteger(values['inner-steps'], 'inner-steps', COUNT_RANGE),
      innerLr: parseNumber(values['inner-lr'], 'inner-lr', LR_RANGE),
      outerStep: parseNumber(values['outer-step'], 'outer-step', { min: 0, minExclusive: true, max: 1 }),
      alpha: parseNumber(values.alpha, 'alpha', { min: 0, max: 10 }),
      seed: parseInteger(values.seed, 'seed', SEED_RANGE),
      threads: parseInteger(values.threads, 'threads', THREADS_RANGE),
      memoryGb: parseNumber(values['memory-gb'], 'memory-gb', MEMORY_GB_RANGE),
      log: (s: string) => process.stderr.write(`${s}\n`),
    };
    await assertWritableModelFolder(opts.modelDir);
    const { metaTrain } = await import('../multitask/meta.js');
    const r = await metaTrain(opts);
    console.log(
      `meta-trained ${r.history.length} epochs (${opts.algorithm ?? 'reptile'}); initialisation in ${r.modelDir}`,
    );
    return 0;
  },
};
