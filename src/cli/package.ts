// `medseg package MODEL -o FILE.medseg`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseInteger, parseCheckpoint, FOLD_RANGE } from './args.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';

const HELP = `usage: medseg package MODEL_DIR -o FILE.medseg [--dataset DIR] [--config NAME[,NAME]]
                      [--folds 0,1,2] [--checkpoint latest|best]
       medseg package --show FILE.medseg

Writes one file a user can hand on: the weights (safetensors, without optimiser state) of the
configurations and folds of the inference recipe (MODEL/inference.json, written by find-best; a
cascade stage brings its first stage), else of every trained configuration and fold; plans.json,
fingerprint.json, the recipe, the label and channel names, the training logs, the medseg version
and a format version. --dataset names the training dataset's folder so its name and licence (from
dataset.json) are recorded. An uncompressed tar whose first member is manifest.json; nothing in it
is executed. predict -m, finetune --from and report accept the file as they accept a folder.
--checkpoint: the recipe's, else latest (the last epoch's weights, as predict).`;

export const command: Command = {
  name: 'package',
  summary: 'write a model folder as one .medseg file',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        dataset: { type: 'string', short: 'd' },
        config: { type: 'string', short: 'c' },
        folds: { type: 'string' },
        checkpoint: { type: 'string' },
        show: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (values.show) {
      const { readManifest } = await import('../transfer/open.js');
      console.log(JSON.stringify(await readManifest(values.show), null, 2));
      return 0;
    }
    if (!positionals[0] || !values.output)
      throw new UsageError(`MODEL_DIR and -o FILE are required\n${HELP}`);
    const checkpoint = parseCheckpoint(values.checkpoint, 'checkpoint');
    const configs = values.config?.split(',').map((c) => c.trim()) as ConfigurationName[] | undefined;
    for (const c of configs ?? [])
      if (!CONFIGURATION_NAMES.includes(c)) throw new UsageError(`unknown --config '${c}'`);
    const { packageModel } = await import('../transfer/package.js');
    const m = await packageModel({
      modelDir: positionals[0],
      output: values.output,
      dataset: values.dataset,
      configs,
      folds: values.folds?.split(',').map((f) => parseInteger(f, 'folds', FOLD_RANGE)!),
      checkpoint,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    const bytes = m.members.reduce((a, b) => a + b.bytes, 0);
    console.log(
      `wrote ${values.output} (${m.members.length + 1} members, ${(bytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    return 0;
  },
};
