// `medseg inspect FILE [--json]`: a shell over inspectImage.
import { parseArgs } from 'node:util';
import { inspectImage, inspectJson, inspectText } from '../io/inspect.js';
import { UsageError, type Command } from './command.js';

const HELP = `usage: medseg inspect FILE [--json]

Prints the header and value statistics of a .nii, .nii.gz, .nrrd, .nhdr file or a DICOM folder.
  --json   print one JSON line: shape, spacing, affine (voxel → RAS mm), datatype, min, max, mean`;

export const command: Command = {
  name: 'inspect',
  summary: 'print a volume header and statistics',
  async run(argv) {
    let values: { json?: boolean; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
      }));
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${HELP}`);
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one FILE\n\n${HELP}`);
    const info = await inspectImage(positionals[0]!);
    console.log(values.json ? inspectJson(info) : inspectText(info));
    return 0;
  },
};
