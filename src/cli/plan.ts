// `medseg plan DATASET [--model DIR] [--memory-gb N]`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseNumber, MEMORY_GB_RANGE } from './args.js';

const HELP = `usage: medseg plan DATASET [--model DIR] [--memory-gb N] [--residual] [--se] [--json]

Checks the dataset, computes its fingerprint and writes fingerprint.json and plans.json (target
spacing, patch size, network topology, batch size, normalisation per configuration) into the
model folder (default: medseg_results/<dataset folder name>). plans.json is meant to be read and
edited: training uses it as it is (and checks it first). --residual plans residual-encoder U-Nets,
--se adds squeeze-and-excitation to their blocks (and so implies --residual, as in nnU-Net).`;

export const command: Command = {
  name: 'plan',
  summary: 'fingerprint a dataset and write plans.json',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        'memory-gb': { type: 'string' },
        residual: { type: 'boolean', default: false },
        se: { type: 'boolean', default: false },
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
    const memoryGb = parseNumber(values['memory-gb'], 'memory-gb', MEMORY_GB_RANGE);
    // nnU-Net's squeeze-and-excitation sits in the residual encoder's blocks: --se plans those
    if (values.se && !values.residual)
      console.error(
        'medseg plan: note: --se plans residual-encoder U-Nets (as --residual) with squeeze-and-excitation in their blocks',
      );
    const model = values.model ?? path.join('medseg_results', path.basename(path.resolve(ds)));
    const { plan } = await import('../plan/run.js');
    const r = await plan(ds, model, {
      memoryGb,
      architecture: values.residual ? 'residual' : 'plain',
      squeezeExcitation: values.se,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    if (values.json) console.log(JSON.stringify(r.plans));
    else {
      for (const c of Object.values(r.plans.configurations)) {
        console.log(
          `${c.name.padEnd(10)} spacing ${c.spacing.map((s) => s.toFixed(2)).join('x')}  patch ${c.patch.join('x')}  ` +
            `batch ${c.batchSize}  stages ${c.network.features.length}`,
        );
      }
      console.log(r.plans.lowresReason);
      console.log(`wrote ${r.plansFile}`);
    }
    return 0;
  },
};
