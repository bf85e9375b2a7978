// `medseg info [--json]`: a shell over systemInfo (libtorch build, GPUs, CPU features, threads).
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';

const HELP = `usage: medseg info [--json]

What medseg computes with here: libtorch's version and build (CPU or CUDA, with the CUDA runtime
and cuDNN versions), the visible GPUs (name, memory, compute capability), what --device auto
chooses, the CPU model and the features that decide speed (AVX2, AVX-512, AVX512-BF16, AMX-BF16:
--bf16 is fast only where bfloat16 is native), and libtorch's threads.
  --json   print the same as one JSON object`;

export const command: Command = {
  name: 'info',
  summary: 'libtorch build, GPUs, CPU features and threads',
  async run(argv) {
    let values: { json?: boolean; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      }));
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${HELP}`);
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const { systemInfo, formatSystemInfo } = await import('../engine/systemInfo.js');
    const info = systemInfo();
    console.log(values.json ? JSON.stringify(info) : formatSystemInfo(info));
    return 0;
  },
};
