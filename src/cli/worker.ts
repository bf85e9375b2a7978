// `medseg worker --storage URL`: takes jobs (trials, folds, predict shards) until none is left.
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parsePositiveInt } from './args.js';
import { parseDuration } from './duration.js';

const HELP = `usage: medseg worker --storage URL [--study NAME]... [--forever] [--threads N] [--grace 2m] [--id NAME]

Takes the next job from the store and runs it, until nothing waits or runs: queued trials (a
re-queued one first), new trials of studies short of their target, folds (medseg queue folds) and
predict shards (medseg queue predict). Start one per machine (or per GPU) on the same store:
--storage postgresql://user:pass@host:5432/db, or sqlite:PATH on one machine. A job whose worker
sends no heartbeat for --grace (default 2m) is failed and re-queued. --forever keeps polling.`;

export const command: Command = {
  name: 'worker',
  summary: 'take jobs (trials, folds, predict shards) from a store',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        storage: { type: 'string' },
        study: { type: 'string', multiple: true },
        forever: { type: 'boolean', default: false },
        threads: { type: 'string' },
        grace: { type: 'string' },
        id: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${HELP}`);
    if (!values.storage) throw new UsageError(`--storage URL is required\n${HELP}`);
    const { openStorage, runWorker } = await import('../search/index.js');
    const storage = await openStorage(values.storage);
    try {
      const r = await runWorker({
        storage,
        storageUrl: values.storage,
        studies: values.study,
        forever: values.forever,
        workerId: values.id,
        threads: values.threads === undefined ? undefined : parsePositiveInt(values.threads, 'threads', 1),
        graceMs: values.grace === undefined ? undefined : parseDuration(values.grace, 'grace') * 1000,
        log: (s: string) => {
          process.stderr.write(`${s}\n`);
        },
      });
      console.log(
        `worker ${r.workerId}: ${r.jobs.length} job(s): ${r.jobs.map((j) => `${j.kind} ${j.id} ${j.state}`).join(', ')}`,
      );
    } finally {
      await storage.close();
    }
    return 0;
  },
};
