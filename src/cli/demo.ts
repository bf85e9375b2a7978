// `medseg demo`: the built-in demo (the README's main job).
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { parseInteger, SEED_RANGE } from './args.js';
import { parseDuration } from './duration.js';

const HELP = `usage: medseg demo [--task hippocampus] [--budget 3m] [--out DIR] [--seed N] [--fp32] [--json]

The whole pipeline on a synthetic task of the built-in decathlon: writes the dataset, plans it for
the budget on this machine (a short calibration the first time, cached), trains fold 0 for the
plan's fixed number of steps (a busy machine takes longer rather than learning less), predicts the
validation cases, evaluates (Dice, HD95, NSD) and writes an HTML report, whose path it prints. A
label whose validation Dice stays below 0.3 is reported as not learned.`;

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
        fp32: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const { runDemo, LEARNED_DICE } = await import('../demo/pipeline.js');
    const r = await runDemo({
      workDir: values.out!,
      task: values.task,
      budgetSeconds: parseDuration(values.budget!, 'budget'),
      seed: parseInteger(values.seed, 'seed', SEED_RANGE) ?? 0,
      fp32: values.fp32,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    if (values.json) console.log(JSON.stringify(r));
    else {
      const dice = Object.entries(r.meanDice)
        .map(([k, v]) => `${k}: ${v === null ? '–' : v.toFixed(3)}`)
        .join(', ');
      console.log(`trained ${r.epochs} epochs (${r.steps} steps); validation Dice ${dice}`);
      if (r.notLearned.length)
        console.log(
          `NOT LEARNED: ${r.notLearned.join(', ')} (validation Dice < ${LEARNED_DICE}); the demo did not succeed on this machine`,
        );
      console.log(`report: ${path.resolve(r.report)}`);
      console.log(`done in ${r.seconds.toFixed(0)} s`);
    }
    return 0;
  },
};
