// `medseg queue folds DATASET -m DIR`, `medseg queue predict -i IN -o OUT -m DIR --shards N`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseIntList, parsePositiveInt } from './args.js';
import { parseDuration } from './duration.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';

const HELP = `usage: medseg queue folds DATASET -m DIR [--storage URL] [--config C] [--folds 0,1,2,3,4]
                          [--epochs N] [--iters-per-epoch N] [--budget 2h] [--optimizer sgd|adamw]
                          [--lr X] [--seed N] [--memory-gb N] [--no-validation]
       medseg queue predict -i IMAGES -o OUT -m DIR --shards N --storage URL
                          [--config C] [--folds 0,1,2,3,4] [--mirror]

Queues jobs that \`medseg worker --storage URL\` processes on any number of machines (the model
folder on a file system they share): the folds of train --fold all (planned, preprocessed and
split here first; each fold resumes from its last checkpoint if its worker dies), or N shards of a
predict input folder. Default store: DIR/search.sqlite.`;

export const command: Command = {
  name: 'queue',
  summary: 'queue folds or predict shards for medseg worker',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        storage: { type: 'string' },
        config: { type: 'string', short: 'c' },
        folds: { type: 'string' },
        epochs: { type: 'string' },
        'iters-per-epoch': { type: 'string' },
        budget: { type: 'string' },
        optimizer: { type: 'string' },
        lr: { type: 'string' },
        seed: { type: 'string' },
        'memory-gb': { type: 'string' },
        'no-validation': { type: 'boolean', default: false },
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        shards: { type: 'string' },
        mirror: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const [sub, ds] = positionals;
    if (!values.model) throw new UsageError(`-m DIR is required\n${HELP}`);
    const config = values.config as ConfigurationName | undefined;
    if (config && !CONFIGURATION_NAMES.includes(config)) throw new UsageError(`unknown --config '${config}'`);
    const folds =
      values.folds === undefined
        ? undefined
        : values.folds.split(',').map((f) => parsePositiveInt(f.trim(), 'folds', 0, true));
    const { queueFolds, queuePredict } = await import('../search/index.js');
    if (sub === 'folds') {
      if (!ds) throw new UsageError(`a dataset folder is required\n${HELP}`);
      if (values.optimizer && values.optimizer !== 'sgd' && values.optimizer !== 'adamw')
        throw new UsageError('--optimizer must be sgd or adamw');
      const jobs = await queueFolds({
        dataset: ds,
        modelDir: values.model,
        storage: values.storage,
        config,
        folds,
        epochs: values.epochs === undefined ? undefined : parsePositiveInt(values.epochs, 'epochs', 1),
        itersPerEpoch:
          values['iters-per-epoch'] === undefined
            ? undefined
            : parsePositiveInt(values['iters-per-epoch'], 'iters-per-epoch', 1),
        budgetSeconds: values.budget === undefined ? undefined : parseDuration(values.budget, 'budget'),
        optimizer: values.optimizer as 'sgd' | 'adamw' | undefined,
        initialLr: values.lr === undefined ? undefined : Number(values.lr),
        seed: values.seed === undefined ? undefined : parsePositiveInt(values.seed, 'seed', 0, true),
        memoryGb: values['memory-gb'] === undefined ? undefined : Number(values['memory-gb']),
        validate: !values['no-validation'],
        log: (s: string) => {
          process.stderr.write(`${s}\n`);
        },
      });
      console.log(`queued ${jobs.length} fold job(s): ${jobs.map((j) => j.id).join(', ')}`);
      return 0;
    }
    if (sub === 'predict') {
      if (!values.input || !values.output) throw new UsageError(`-i IMAGES and -o OUT are required\n${HELP}`);
      if (!values.storage) throw new UsageError('--storage URL is required');
      const jobs = await queuePredict({
        input: values.input,
        output: values.output,
        modelDir: path.resolve(values.model),
        shards: parseIntList(values.shards, 'shards', 1)[0]!,
        storage: values.storage,
        config,
        folds,
        mirror: values.mirror,
      });
      console.log(`queued ${jobs.length} predict shard(s): ${jobs.map((j) => j.id).join(', ')}`);
      return 0;
    }
    throw new UsageError(`unknown subcommand '${sub ?? ''}' (folds or predict)\n${HELP}`);
  },
};
