// `medseg export MODEL --format onnx -o DIR`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseCheckpoint, parsePositiveInt } from './args.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';

const HELP = `usage: medseg export MODEL --format onnx -o DIR [--config NAME] [--folds 0,1,2]
                     [--checkpoint latest|best] [--webgpu] [--batch N]

Writes every configuration and fold of the model's inference recipe (MODEL/inference.json; without
one, 3d_fullres with every fold that has a checkpoint; a cascade with its first stage) as ONNX
(opset 17; input 'image' [N, C, ...patch], output 'logits' [N, K, ...patch]), and DIR/export.json
with what inference needs besides the networks: spacing, normalisation, patch, sliding-window
settings, label values and names, channel names, the ensemble and the post-processing.
\`medseg predict -m DIR\` then runs it with onnxruntime-node, without libtorch.
--webgpu: transposed convolutions as a 1x1 convolution + depth-to-space (Reshape/Transpose), for
runtimes without ConvTranspose (onnxruntime-web's WebGPU backend); same results.
--checkpoint: the recipe's (the one its out-of-fold predictions were made with), else latest (the
last epoch's weights, as predict).`;

export const command: Command = {
  name: 'export',
  summary: 'export a trained model as ONNX (+ export.json)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'onnx' },
        output: { type: 'string', short: 'o' },
        config: { type: 'string', short: 'c' },
        folds: { type: 'string' },
        checkpoint: { type: 'string' },
        webgpu: { type: 'boolean', default: false },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const model = positionals[0];
    if (!model || !values.output) throw new UsageError(`MODEL and -o DIR are required\n${HELP}`);
    if (values.format !== 'onnx') throw new UsageError(`--format must be onnx, got '${values.format}'`);
    const checkpoint = parseCheckpoint(values.checkpoint, 'checkpoint');
    const config = values.config as ConfigurationName | undefined;
    if (config !== undefined && !CONFIGURATION_NAMES.includes(config))
      throw new UsageError(`unknown --config '${config}'`);
    const folds = values.folds?.split(',').map((f) => parsePositiveInt(f.trim(), 'folds', 0, true));
    const { exportModel } = await import('../export/exportModel.js');
    const r = await exportModel({
      modelDir: model,
      output: values.output,
      config,
      folds,
      checkpoint,
      convTranspose: values.webgpu ? 'depthToSpace' : 'native',
      batch: values.batch === undefined ? undefined : parsePositiveInt(values.batch, 'batch', 2),
      log: (s) => process.stderr.write(`${s}\n`),
    });
    console.log(`wrote ${r.files.length} ONNX file(s) and ${r.manifestFile}`);
    return 0;
  },
};
