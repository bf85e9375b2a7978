// `medseg demo`: the built-in demo (the README's main job).
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { parsePositiveInt } from './args.js';

const HELP = `usage: medseg demo [--steps N] [--seed N] [--json]

Trains a small 3D U-Net on synthetic volumes (bright ellipsoids with a core) on this machine,
then segments a larger unseen volume by sliding window and prints Dice per class.`;

export const command: Command = {
  name: 'demo',
  summary: 'a tiny end-to-end demo on synthetic data',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        steps: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const { runSpheresDemo } = await import('../demo/spheres.js');
    const r = runSpheresDemo({
      steps: parsePositiveInt(values.steps, 'steps', 120),
      seed: parsePositiveInt(values.seed, 'seed', 0, true),
      log: (s) => process.stderr.write(`${s}\n`),
    });
    if (values.json) console.log(JSON.stringify(r));
    else {
      console.log(`trained ${r.steps} steps: loss ${r.lossFirst.toFixed(3)} → ${r.lossLast.toFixed(3)}`);
      console.log(`unseen volume, Dice: outer ${r.dice.outer!.toFixed(3)}, core ${r.dice.core!.toFixed(3)}`);
      console.log(`done in ${r.seconds.toFixed(0)} s`);
    }
    return 0;
  },
};
