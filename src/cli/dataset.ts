// `medseg dataset check|convert|from-pattern`: thin shells over src/dataset.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { parseNumber } from './args.js';
import { checkDataset, type CheckOptions, type CheckResult } from '../dataset/check.js';
import { convertMsdToNnunet, writeNnunetDataset, type WriteDatasetResult } from '../dataset/export.js';
import { datasetFromPattern } from '../dataset/from-pattern.js';
import { parseLabelList } from '../dataset/labels.js';

const HELP = `usage: medseg dataset <check|convert|from-pattern> ...

  check DIR                 check an MSD or nnU-Net v2 dataset folder; exit code 1 on errors
      --json                print the structured result instead of the report
      --max-anisotropy X    warn above this spacing ratio (default 10)
      --tolerance-mm X      allowed origin difference between a case's files (default 0.01)
      --tolerance-rel X     allowed axis difference, relative to the voxel size (default 0.001)
      --no-test             skip the test images

  convert MSD_DIR OUT_DIR   MSD task → nnU-Net v2 (4D images split into _0000, _0001, … files)
      --force               replace the dataset in a non-empty OUT_DIR

  from-pattern ROOT         a dataset from files matched by path patterns relative to ROOT
      --image PATTERN       image pattern, once per channel (or once, with {channel})
      --channels A,B        values for {channel}; they name the channels
      --channel-names A,B   channel names (e.g. CT, T2, ADC)
      --label PATTERN       label pattern
      --labels N=V,...      label names, e.g. background=0,spleen=1 (region: wt=1+2+3); default: the
                            values found in the label files
      --regions-class-order V,...  with region labels: the value each region writes where it is
                            predicted, in order (nnU-Net's regions_class_order), e.g. 2,1,4
      --name NAME           dataset name
      --out DIR             write it as an nnU-Net v2 dataset; without it, list and check the matches
      --force               replace the dataset in a non-empty --out DIR

  patterns: {case} is the case id (within one path segment, same text where repeated), {channel} a
  value of --channels, * any characters within a segment, ? one character, ** any folders. e.g.
    medseg dataset from-pattern data/msd-spleen-crop --image 'sub-{case}/ct/sub-{case}_ct.nii.gz' \\
      --label 'derivatives/labels/sub-{case}/ct/sub-{case}_ct_seg-manual.nii.gz' --channel-names CT`;

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return parseNumber(text, name, { min: 0 });
}

function printCheck(r: CheckResult, json: boolean): number {
  if (json) {
    const { report: _report, dataset, ...rest } = r;
    console.log(JSON.stringify({ ...rest, layout: dataset?.layout, name: dataset?.name }, null, 2));
  } else console.log(r.report);
  return r.ok ? 0 : 1;
}

function printWritten(r: WriteDatasetResult): void {
  console.log(`wrote ${r.dir}: ${r.training} training cases, ${r.test} test cases`);
  for (const s of r.skipped) console.log(`  skipped ${s.caseId}: ${s.message}`);
}

async function check(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'max-anisotropy': { type: 'string' },
      'tolerance-mm': { type: 'string' },
      'tolerance-rel': { type: 'string' },
      'no-test': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('check: expected one dataset folder');
  const mm = number('tolerance-mm', values['tolerance-mm']) ?? 1e-2;
  const relative = number('tolerance-rel', values['tolerance-rel']) ?? 1e-3;
  const anis = number('max-anisotropy', values['max-anisotropy']);
  const opts: CheckOptions = {
    tolerance: { mm, relative },
    includeTest: !values['no-test'],
    ...(anis !== undefined ? { maxAnisotropy: anis } : {}),
    // Progress only for a person watching: large datasets take minutes to read.
    ...(process.stderr.isTTY
      ? {
          onCase: (_r, done, total) =>
            process.stderr.write(`\rchecked ${done}/${total}${done === total ? '\n' : ''}`),
        }
      : {}),
  };
  return printCheck(await checkDataset(positionals[0]!, opts), values.json ?? false);
}

async function convert(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean' } },
  });
  if (positionals.length !== 2) throw new UsageError('convert: expected MSD_DIR OUT_DIR');
  printWritten(
    await convertMsdToNnunet(positionals[0]!, positionals[1]!, { overwrite: values.force ?? false }),
  );
  return 0;
}

async function fromPattern(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      image: { type: 'string', multiple: true },
      channels: { type: 'string' },
      'channel-names': { type: 'string' },
      label: { type: 'string' },
      labels: { type: 'string' },
      'regions-class-order': { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('from-pattern: expected one ROOT folder');
  if (!values.image?.length) throw new UsageError('from-pattern: at least one --image PATTERN is required');
  let labels: Record<string, number | number[]> | undefined;
  try {
    labels = values.labels === undefined ? undefined : parseLabelList(values.labels);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const regionClassOrder = list(values['regions-class-order'])?.map(Number);
  if (regionClassOrder?.some((v) => !Number.isInteger(v) || v <= 0))
    throw new UsageError(
      `--regions-class-order: expected positive integers, got ${values['regions-class-order']}`,
    );
  const channels = list(values.channels);
  const channelNames = list(values['channel-names']);
  let ds;
  try {
    ds = await datasetFromPattern({
      root: positionals[0]!,
      images: values.image,
      ...(channels ? { channels } : {}),
      ...(channelNames ? { channelNames } : {}),
      ...(values.label ? { label: values.label } : {}),
      ...(labels ? { labels } : {}),
      ...(regionClassOrder ? { regionClassOrder } : {}),
      ...(values.name ? { name: values.name } : {}),
    });
  } catch (e) {
    // Pattern syntax and channel-count mistakes are the user's to fix.
    throw new UsageError((e as Error).message);
  }
  if (values.out) {
    printWritten(await writeNnunetDataset(ds, values.out, { overwrite: values.force ?? false }));
    return 0;
  }
  for (const c of [...ds.training, ...ds.test]) {
    console.log(
      `${c.id}: ${c.channels.map((ch) => ch.path).join(', ')}${c.label ? ` | label ${c.label}` : ''}`,
    );
  }
  return printCheck(await checkDataset(ds), values.json ?? false);
}

export const command: Command = {
  name: 'dataset',
  summary: 'check, convert and build datasets',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
      console.log(HELP);
      return sub ? 0 : 2;
    }
    try {
      if (sub === 'check') return await check(rest);
      if (sub === 'convert') return await convert(rest);
      if (sub === 'from-pattern') return await fromPattern(rest);
    } catch (e) {
      // parseArgs reports unknown options as TypeErrors with a code: those are usage errors.
      if ((e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
        throw new UsageError((e as Error).message);
      throw e;
    }
    throw new UsageError(`unknown subcommand '${sub}'\n\n${HELP}`);
  },
};
