// `medseg find-best DATASET [-m MODEL] [--configs a,b] [--no-ensembles] [--json]`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import { describePostprocessing } from '../infer/recipe.js';

const HELP = `usage: medseg find-best DATASET [-m MODEL] [--configs 3d_fullres,3d_cascade_prior,...] [--no-ensembles] [--json]

Compares, on out-of-fold predictions (every case predicted by the fold that did not train on it;
written when each fold's training ends), every configuration trained on all folds and every
ensemble of two of them by mean foreground Dice; decides the post-processing (keep the largest
connected component, overall and per label, only where it raises the mean Dice) on the best one;
writes MODEL/inference.json. \`medseg predict\` without --config then uses that recipe.
Configurations: ${CONFIGURATION_NAMES.join(', ')}.`;

export const command: Command = {
  name: 'find-best',
  summary: 'choose the configuration / ensemble and post-processing from cross-validation',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        configs: { type: 'string' },
        'no-ensembles': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const ds = positionals[0];
    if (!ds) throw new UsageError(`a dataset folder is required\n${HELP}`);
    const configs = values.configs?.split(',').map((c) => c.trim()) as ConfigurationName[] | undefined;
    for (const c of configs ?? [])
      if (!CONFIGURATION_NAMES.includes(c)) throw new UsageError(`unknown configuration '${c}'`);
    const { findBest } = await import('../evaluate/findBest.js');
    const r = await findBest({
      dataset: ds,
      modelDir: values.model ?? path.join('medseg_results', path.basename(path.resolve(ds))),
      configs,
      ensembles: !values['no-ensembles'],
      log: (s) => process.stderr.write(`${s}\n`),
    });
    if (values.json) {
      console.log(JSON.stringify(r.recipe));
      return 0;
    }
    console.log('out-of-fold mean Dice:');
    for (const c of r.recipe.candidates) {
      const per = Object.entries(c.dicePerLabel)
        .map(([l, d]) => `${l}: ${d === null ? '-' : d.toFixed(4)}`)
        .join('  ');
      console.log(
        `  ${c.members.join(' + ').padEnd(36)} ${c.meanDice === null ? '-' : c.meanDice.toFixed(4)}   (${per})`,
      );
    }
    const pp = r.recipe.postprocessing;
    const steps = describePostprocessing(pp);
    console.log(`chosen: ${r.recipe.configurations.join(' + ')}; post-processing: ${steps}`);
    console.log(`wrote ${r.file}`);
    return 0;
  },
};
