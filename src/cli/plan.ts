// `medseg plan DATASET [--model DIR] [--memory-gb N]`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseDuration } from './duration.js';
import { parseNumber, parseInteger, MEMORY_GB_RANGE, THREADS_RANGE } from './args.js';

const HELP = `usage: medseg plan DATASET [--model DIR] [--memory-gb N] [--residual] [--se] [--json]
                   [--budget 40m [--fp32] [--recalibrate] [--threads N]]

Checks the dataset, computes its fingerprint and writes fingerprint.json and plans.json (target
spacing, patch size, network topology, batch size, normalisation per configuration) into the
model folder (default: medseg_results/<dataset folder name>). plans.json is meant to be read and
edited: training uses it as it is (and checks it first). --residual plans residual-encoder U-Nets,
--se adds squeeze-and-excitation to their blocks (and so implies --residual, as in nnU-Net).
--budget fits 3d_fullres to a training time on this machine: a short calibration (cached per
machine and libtorch build) times a few small networks, and the planner chooses patch, width,
depth, precision and a short-run schedule (AdamW + warm-up) so the run gets enough steps
(plans.json: configurations.3d_fullres.budget says why, .training holds the schedule that train
uses). bf16 where the CPU has native bf16 (AVX512-BF16/AMX) unless --fp32. Without --budget the
plans are nnU-Net's.`;

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
        budget: { type: 'string' },
        fp32: { type: 'boolean', default: false },
        recalibrate: { type: 'boolean', default: false },
        threads: { type: 'string' },
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
    const budgetSeconds = values.budget === undefined ? undefined : parseDuration(values.budget, 'budget');
    const threads = parseInteger(values.threads, 'threads', THREADS_RANGE);
    const { plan } = await import('../plan/run.js');
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const r = await plan(ds, model, {
      memoryGb,
      architecture: values.residual ? 'residual' : 'plain',
      squeezeExcitation: values.se,
      log,
    });
    if (budgetSeconds !== undefined) {
      const { fitPlansToBudget, writePlans } = await import('../plan/index.js');
      r.plans = await fitPlansToBudget(r.plans, {
        seconds: budgetSeconds,
        fp32: values.fp32,
        recalibrate: values.recalibrate,
        threads,
        log,
      });
      await writePlans(model, r.plans);
    }
    if (values.json) console.log(JSON.stringify(r.plans));
    else {
      for (const c of Object.values(r.plans.configurations)) {
        console.log(
          `${c.name.padEnd(10)} spacing ${c.spacing.map((s) => s.toFixed(2)).join('x')}  patch ${c.patch.join('x')}  ` +
            `batch ${c.batchSize}  stages ${c.network.features.length}`,
        );
        if (c.budget) console.log(`  budget: ${c.budget.why}`);
      }
      console.log(r.plans.lowresReason);
      console.log(`wrote ${r.plansFile}`);
    }
    return 0;
  },
};
