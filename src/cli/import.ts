// `medseg import tfjs MODEL_JSON -o DIR`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseIntList } from './args.js';

const HELP = `usage: medseg import tfjs MODEL_JSON -o DIR [--no-transpose] [--patch D,H,W]

Reads a TensorFlow.js layers model (brainchop's MeshNets: Conv3D with dilations and relu / elu /
gelu activations, model.json + weight shards, colormap.json for the class names) and writes DIR as
an ONNX export folder that \`medseg predict -i T1.nii.gz -o OUT -m DIR\` runs (onnxruntime-node, no
libtorch): 1 mm, min-max rescaling, the model's input size (256³ for conformed volumes) as one
window. --no-transpose: the model takes the volume as [z, y, x] (brainchop feeds [x, y, z]).`;

export const command: Command = {
  name: 'import',
  summary: "import another tool's model (tfjs: brainchop's MeshNets)",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        'no-transpose': { type: 'boolean', default: false },
        patch: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const [kind, modelJson] = positionals;
    if (kind !== 'tfjs') throw new UsageError(`the first argument must be tfjs\n${HELP}`);
    if (!modelJson || !values.output) throw new UsageError(`MODEL_JSON and -o DIR are required\n${HELP}`);
    const { importTfjs } = await import('../importers/importTfjs.js');
    const r = await importTfjs({
      modelJson,
      output: values.output,
      transpose: !values['no-transpose'],
      patch: values.patch === undefined ? undefined : parseIntList(values.patch, 'patch', 3),
      log: (s) => process.stderr.write(`${s}\n`),
    });
    console.log(`wrote ${r.manifestFile}`);
    return 0;
  },
};
