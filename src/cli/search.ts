// `medseg search DATASET -m DIR --trials N ...`, `medseg search status -m DIR`, `medseg search best -m DIR`
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parsePositiveInt } from './args.js';
import { parseDuration } from './duration.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';

const HELP = `usage: medseg search DATASET -m DIR --trials N [--space space.json] [--workers W]
                     [--storage URL] [--sampler tpe|random] [--no-pruning] [--study NAME]
                     [--config 3d_fullres|2d|...] [--fold F] [--epochs N] [--iters-per-epoch N]
                     [--budget 10m] [--seed N] [--threads N] [--memory-gb N] [--grace 2m]
       medseg search status -m DIR [--storage URL] [--study NAME] [--json]
       medseg search best -m DIR [--storage URL] [--study NAME] [--write-plans]

Hyper-parameter search: N trials, each a training of fold F (default 0) in DIR/trials/trial_NNNN
with parameters proposed by TPE (default; the first 10 at random) or random search, pruned by ASHA
(η = 3, rungs after 1, 3, 9, ... epochs) on the per-epoch validation pseudo-Dice. --epochs,
--iters-per-epoch and --budget apply to each trial as they do to train.
The space (JSON; without --space the default below): {"lr": {"type": "float", "low": 1e-3,
"high": 3e-2, "log": true}, "optimizer": {"type": "choice", "values": ["sgd", "adamw"]},
"width": {"type": "int", "low": 8, "high": 32, "log": true}, "depth": {"type": "int", "low": 3,
"high": 6}, "patchScale": {"type": "float", "low": 0.5, "high": 1}}. Options: lr, optimizer, batch,
patchScale, width, depth, residual, se, epochs, itersPerEpoch, and the recipe's diceWeight, ceWeight
(0-100; loss = diceWeight·(1 - soft Dice) + ceWeight·CE), oversampling (0-1, share of each batch
forced to contain foreground) and augmentation (strength 0-3; 1 the standard augmentation), which
default to nnU-Net's 1, 1, 0.33, 1 and go into the trial's plans.json.
Store: DIR/search.sqlite by default; --storage postgresql://user:pass@host:5432/db for many
machines (start \`medseg worker --storage URL\` there; --workers W starts W workers here).
Running it again continues the study (more --trials add trials). status lists the trials (--json:
one line {"trials": [{"number", "state", "value", "params"}, ...]}); best --write-plans makes the
best trial's plans DIR/plans.json (the old one kept as plans.before-search.json) and prints the
train command with its learning rate and optimiser.`;

const num = (v: number | null) => (v === null ? '-' : v.toFixed(4));

export const command: Command = {
  name: 'search',
  summary: 'hyper-parameter search (TPE/random, ASHA) over plan and trainer options',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        trials: { type: 'string' },
        space: { type: 'string' },
        workers: { type: 'string' },
        storage: { type: 'string' },
        sampler: { type: 'string', default: 'tpe' },
        'no-pruning': { type: 'boolean', default: false },
        study: { type: 'string' },
        config: { type: 'string', short: 'c', default: '3d_fullres' },
        fold: { type: 'string' },
        epochs: { type: 'string' },
        'iters-per-epoch': { type: 'string' },
        budget: { type: 'string' },
        seed: { type: 'string' },
        threads: { type: 'string' },
        'memory-gb': { type: 'string' },
        grace: { type: 'string' },
        json: { type: 'boolean', default: false },
        'write-plans': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const lib = await import('../search/index.js');
    const sub = positionals[0];
    if (sub === 'status' || sub === 'best') {
      if (!values.model) throw new UsageError(`-m DIR is required\n${HELP}`);
      const o = { modelDir: values.model, storage: values.storage, study: values.study };
      if (sub === 'best') {
        if (values['write-plans']) {
          const r = await lib.writeBestPlans(o);
          console.log(
            `best: trial ${r.best.number}, value ${num(r.best.value)}, ${JSON.stringify(r.best.params)}`,
          );
          console.log(`plans written to ${r.plansFile}; train with:\n  ${r.command}`);
        } else {
          const r = await lib.searchStatus(o);
          if (!r.best) throw new Error(`study '${r.study}' has no complete trial yet`);
          console.log(
            values.json
              ? JSON.stringify({ number: r.best.number, value: r.best.value, params: r.best.params })
              : `best: trial ${r.best.number}, value ${num(r.best.value)}, ${JSON.stringify(r.best.params)}`,
          );
        }
        return 0;
      }
      const r = await lib.searchStatus(o);
      if (values.json) {
        console.log(
          JSON.stringify({
            trials: r.trials.map((t) => ({
              number: t.number,
              state: t.state,
              value: t.value,
              params: t.params,
              requeuedFrom: t.requeuedFrom,
              error: t.error,
            })),
          }),
        );
        return 0;
      }
      console.log(`study '${r.study}' in ${r.storage}`);
      for (const t of r.trials) {
        const epochs = Object.keys(t.intermediate).length;
        const extra = [
          t.requeuedFrom !== null ? `re-run of ${t.requeuedFrom}` : '',
          t.state === 'running' ? `on ${t.workerId}` : '',
          t.error ?? '',
        ].filter(Boolean);
        console.log(
          `${String(t.number).padStart(4)}  ${t.state.padEnd(8)}  ${num(t.value).padStart(7)}  ${String(epochs).padStart(3)} ep  ${JSON.stringify(t.params)}${extra.length ? `  (${extra.join('; ')})` : ''}`,
        );
      }
      if (r.best) console.log(`best: trial ${r.best.number} (${num(r.best.value)})`);
      return 0;
    }
    const ds = sub;
    if (!ds) throw new UsageError(`a dataset folder is required\n${HELP}`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (values.trials === undefined) throw new UsageError('--trials N is required');
    const config = values.config as ConfigurationName;
    if (!CONFIGURATION_NAMES.includes(config)) throw new UsageError(`unknown --config '${config}'`);
    if (values.sampler !== 'tpe' && values.sampler !== 'random')
      throw new UsageError('--sampler must be tpe or random');
    const space = values.space ? await lib.readSpace(values.space) : undefined;
    const r = await lib.search({
      dataset: ds,
      modelDir: values.model ?? path.join('medseg_results', path.basename(path.resolve(ds))),
      trials: parsePositiveInt(values.trials, 'trials', 1),
      workers: parsePositiveInt(values.workers, 'workers', 1),
      storage: values.storage,
      space,
      sampler: values.sampler,
      pruning: !values['no-pruning'],
      study: values.study,
      config,
      fold: values.fold === undefined ? undefined : parsePositiveInt(values.fold, 'fold', 0, true),
      epochs: values.epochs === undefined ? undefined : parsePositiveInt(values.epochs, 'epochs', 1),
      itersPerEpoch:
        values['iters-per-epoch'] === undefined
          ? undefined
          : parsePositiveInt(values['iters-per-epoch'], 'iters-per-epoch', 1),
      budgetSeconds: values.budget === undefined ? undefined : parseDuration(values.budget, 'budget'),
      seed: values.seed === undefined ? undefined : parsePositiveInt(values.seed, 'seed', 0, true),
      threads: values.threads === undefined ? undefined : parsePositiveInt(values.threads, 'threads', 1),
      memoryGb: values['memory-gb'] === undefined ? undefined : Number(values['memory-gb']),
      graceMs: values.grace === undefined ? undefined : parseDuration(values.grace, 'grace') * 1000,
      log: (s: string) => {
        process.stderr.write(`${s}\n`);
      },
    });
    const counts = new Map<string, number>();
    for (const t of r.trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
    console.log(`study '${r.study}': ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
    if (r.best)
      console.log(
        `best: trial ${r.best.number}, value ${num(r.best.value)}, ${JSON.stringify(r.best.params)}`,
      );
    return 0;
  },
};
