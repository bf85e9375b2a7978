// `medseg convert IN OUT [--datatype T | --label] [--level N]`: a shell over convertImage.
import { parseArgs } from 'node:util';
import { convertImage, type ConvertOptions } from '../io/convert.js';
import { voxelBytes } from '../io/datatype.js';
import type { VoxelType } from '../io/volume.js';
import { UsageError, type Command } from './command.js';
import { parseInteger } from './args.js';

const TYPES = Object.keys(voxelBytes).filter((t) => t !== 'rgb24');

const HELP = `usage: medseg convert IN OUT [--datatype TYPE | --label] [--level N]

Converts between .nii, .nii.gz, .nrrd (write) and .nii, .nii.gz, .nrrd, .nhdr, DICOM folder (read).
Keeps the stored type and scaling unless told otherwise. OUT may not be IN.
  --datatype TYPE  store the real values as TYPE (${TYPES.join(', ')});
                   integer types only when every value is an integer in range
  --label          store as the smallest integer type that holds the label values
  --level N        gzip level 1-9 for .nii.gz / .nrrd (default 6)`;

export const command: Command = {
  name: 'convert',
  summary: 'convert a volume between formats',
  async run(argv) {
    let values: { datatype?: string; label?: boolean; level?: string; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        options: {
          datatype: { type: 'string' },
          label: { type: 'boolean' },
          level: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
      }));
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${HELP}`);
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`expected IN and OUT\n\n${HELP}`);
    const opts: ConvertOptions = {};
    if (values.datatype !== undefined) {
      if (!TYPES.includes(values.datatype))
        throw new UsageError(`--datatype must be one of ${TYPES.join(', ')}`);
      opts.datatype = values.datatype as VoxelType;
    }
    if (values.label) opts.label = true;
    if (values.level !== undefined) {
      opts.level = parseInteger(values.level, 'level', { min: 1, max: 9 });
    }
    if (opts.label && opts.datatype) throw new UsageError('give either --datatype or --label');
    const r = await convertImage(positionals[0]!, positionals[1]!, opts);
    console.log(`wrote ${r.output} (${r.shape.join('×')} ${r.datatype})`);
    return 0;
  },
};
