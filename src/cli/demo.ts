// `medseg demo`: the built-in demo (the README's main job).
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { parseInteger, SEED_RANGE } from './args.js';
import { parseDuration } from './duration.js';

const HELP = `usage: medseg demo [--task hippocampus] [--budget 3m] [--out DIR] [--seed N] [--json]

The whole pipeline on a synthetic task of the built-in decathlon: writes the dataset, plans,
trains fold 0 within the time budget on this machine, predicts the validation cases, evaluates
(Dice, HD95, NSD) and writes an HTML report, whose path it prints.`;

export const command: Command = {
  name: 'demo',
  summary: 'synthetic task → plan → train → predict → evaluate → report',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        task: { type: 'string', default: 'hippocampus' },
        budget: { type: 'string', default: '3m' },
        out: { type: 'string', default: path.join('medseg_results', 'demo') },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const { runDemo } = await import('../demo/pipeline.js');
    const r = await runDemo({
      workDir: values.out!,
      task: values.task,
      budgetSeconds: parseDuration(values.budget!, 'budget'),
      seed: parseInteger(values.seed, 'seed', SEED_RANGE) ?? 0,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    if (values.json) console.log(JSON.stringify(r));
    else {
      const dice = Object.entries(r.meanDice)
        .map(([k, v]) => `${k}: ${v === null ? '–' : v.toFixed(3)}`)
        .join(', ');
      console.log(`trained ${r.epochs} epochs; validation Dice ${dice}`);
      console.log(`report: ${path.resolve(r.report)}`);
      console.log(`done in ${r.seconds.toFixed(0)} s`);
    }
    return 0;
  },
};
