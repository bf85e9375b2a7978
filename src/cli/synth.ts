// `medseg synth`: writes the synthetic decathlon (or one task of it) as nnU-Net v2 datasets.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { parseInteger, COUNT_RANGE, SEED_RANGE } from './args.js';
import { assertSize, datasetFolderName, findTask } from '../synth/generate.js';
import { SYNTH_TASKS } from '../synth/tasks/index.js';
import { DEFAULT_CASES, writeSynthAll, writeSynthDataset, type SynthWriteOptions } from '../synth/write.js';

const HELP = `usage: medseg synth TASK|all --out DIR [--seed N] [--size tiny|small|realistic] [--cases N] [--force]

Writes synthetic datasets that mirror the Medical Segmentation Decathlon tasks, as nnU-Net v2 datasets
(DIR/Dataset0NN_Name/dataset.json, imagesTr/, labelsTr/, .nii.gz). The same seed gives identical files.

tasks:
${SYNTH_TASKS.map((t) => `  ${t.key.padEnd(15)} ${datasetFolderName(t).padEnd(24)} ${t.description}`).join('\n')}

options:
  --out DIR      parent folder of the dataset folders (required)
  --seed N       seed of the generator (default 0)
  --size S       tiny (≈32³, for tests), small (≈128²), realistic (near real sizes); default tiny
  --cases N      cases per task (default ${DEFAULT_CASES.tiny} tiny, ${DEFAULT_CASES.small} small, ${DEFAULT_CASES.realistic} realistic)
  --force        replace existing dataset folders
  --quiet        no per-case lines`;

function parseCli(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        cases: { type: 'string' },
        force: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // Unknown or malformed options.
    throw new UsageError((e as Error).message);
  }
}

export const command: Command = {
  name: 'synth',
  summary: 'write the synthetic decathlon (nnU-Net v2)',
  async run(argv) {
    const { values, positionals } = parseCli(argv);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one TASK or 'all'\n\n${HELP}`);
    if (!values.out) throw new UsageError('--out DIR is required');
    const size = values.size ?? 'tiny';
    const name = positionals[0]!;
    try {
      assertSize(size);
      if (name !== 'all') findTask(name);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const cases = parseInteger(values.cases, 'cases', COUNT_RANGE);
    const opts: SynthWriteOptions = {
      size,
      seed: parseInteger(values.seed, 'seed', SEED_RANGE) ?? 0,
      overwrite: values.force ?? false,
      ...(cases !== undefined ? { cases } : {}),
      ...(values.quiet ? {} : { onCase: (t, id, s) => console.log(`${t.key} ${id} ${s.toFixed(2)} s`) }),
    };
    const start = performance.now();
    const results =
      name === 'all'
        ? await writeSynthAll(values.out, opts)
        : [await writeSynthDataset(name, values.out, opts)];
    for (const r of results) console.log(`wrote ${r.dir} (${r.cases} cases, ${r.seconds.toFixed(1)} s)`);
    if (results.length > 1) console.log(`total ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return 0;
  },
};
