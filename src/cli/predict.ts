// `medseg predict -i IN -o OUT -m MODEL_DIR`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parsePositiveInt } from './args.js';
import type { ConfigurationName } from '../plan/planner.js';

const HELP = `usage: medseg predict -i IN -o OUT -m MODEL_DIR [--config 3d_fullres] [--folds 0,1,2]
                      [--checkpoint best|latest] [--mirror] [--bf16] [--save-probabilities] [--threads N]

IN is an image file (NIfTI, NRRD; 4D = channels), a DICOM series folder, or a folder of images
(nnU-Net naming CASE_0000.nii.gz for channels). Label maps are written in each input's own
geometry and affine, atomically; inputs are never overwritten. Folds are ensembled by averaging
probabilities.`;

export const command: Command = {
  name: 'predict',
  summary: 'segment images with a trained model',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        model: { type: 'string', short: 'm' },
        config: { type: 'string', short: 'c', default: '3d_fullres' },
        folds: { type: 'string', default: '0' },
        checkpoint: { type: 'string', default: 'best' },
        mirror: { type: 'boolean', default: false },
        bf16: { type: 'boolean', default: false },
        'save-probabilities': { type: 'boolean', default: false },
        threads: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!values.input || !values.output || !values.model)
      throw new UsageError(`-i, -o and -m are required\n${HELP}`);
    if (values.checkpoint !== 'best' && values.checkpoint !== 'latest')
      throw new UsageError('--checkpoint must be best or latest');
    const folds =
      values.folds === 'all'
        ? [0, 1, 2, 3, 4]
        : values.folds!.split(',').map((f) => parsePositiveInt(f.trim(), 'folds', 0, true));
    const { predict } = await import('../infer/predict.js');
    const r = await predict({
      input: values.input,
      output: values.output,
      modelDir: values.model,
      config: values.config as ConfigurationName,
      folds,
      checkpoint: values.checkpoint,
      mirror: values.mirror,
      autocast: values.bf16 ? 'bfloat16' : null,
      saveProbabilities: values['save-probabilities'],
      threads: values.threads === undefined ? undefined : parsePositiveInt(values.threads, 'threads', 1),
      log: (s) => process.stderr.write(`${s}\n`),
    });
    console.log(`wrote ${r.cases.length} label map(s)`);
    return 0;
  },
};
