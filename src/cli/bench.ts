// `medseg bench train-step|sliding-window`: the engine benchmarks (see bench/RESULTS.md).
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseIntList, parsePositiveInt, parseInteger, THREADS_RANGE } from './args.js';
import { deviceOption, parseDeviceOption, DEVICE_HELP } from './device.js';

const HELP = `usage:
  medseg bench train-step [--patch 64,64,64] [--batch 2] [--in 1] [--classes 3] [--bf16 | --fp16]
                          [--steps 5] [--warmup 2] [--threads N] [--device auto|cpu|cuda[:N]] [--json]
  medseg bench sliding-window [--shape 1,128,128,128] [--patch 64,64,64] [--classes 3] [--bf16 | --fp16]
                          [--threads N] [--device auto|cpu|cuda[:N]] [--json]

train-step: nnU-Net's 3d_fullres PlainConvUNet for the patch, Dice+CE with deep supervision, SGD
(lr 0.01, Nesterov 0.99, weight decay 3e-5), random data from a fixed seed; median time per step.
sliding-window: the same network over a random volume, step 0.5, Gaussian weights, 2 windows per
batch, argmax. With --json the last line is the result as JSON.
${DEVICE_HELP}
--fp16 (GPU only): float16 autocast; train-step adds dynamic loss scaling. On a GPU cuDNN's
benchmark mode is on.`;

export const command: Command = {
  name: 'bench',
  summary: 'benchmarks: train-step, sliding-window',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        patch: { type: 'string', default: '64,64,64' },
        shape: { type: 'string', default: '1,128,128,128' },
        batch: { type: 'string' },
        in: { type: 'string' },
        classes: { type: 'string' },
        bf16: { type: 'boolean', default: false },
        fp16: { type: 'boolean', default: false },
        steps: { type: 'string' },
        warmup: { type: 'string' },
        threads: { type: 'string' },
        ...deviceOption,
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const what = positionals[0];
    const patch = parseIntList(values.patch, 'patch');
    const threads = parseInteger(values.threads, 'threads', THREADS_RANGE);
    const log = (s: string) => process.stderr.write(`${s}\n`);
    if (values.fp16 && values.bf16) throw new UsageError('--fp16 and --bf16 exclude each other');
    const device = await parseDeviceOption(values.device);
    if (values.fp16 && device === 'cpu')
      throw new UsageError('--fp16 needs a GPU (--device cuda); on the CPU use --bf16');
    let result: object;
    if (what === 'train-step') {
      const { benchTrainStep } = await import('../bench/trainStep.js');
      result = benchTrainStep({
        patch,
        batch: parsePositiveInt(values.batch, 'batch', 2),
        inChannels: parsePositiveInt(values.in, 'in', 1),
        classes: parsePositiveInt(values.classes, 'classes', 3),
        bf16: values.bf16!,
        fp16: values.fp16!,
        steps: parsePositiveInt(values.steps, 'steps', 5),
        warmup: parsePositiveInt(values.warmup, 'warmup', 2, true),
        threads,
        device,
        onStep: (i, ms, loss) => log(`step ${i}: ${ms.toFixed(0)} ms, loss ${loss.toFixed(4)}`),
      });
    } else if (what === 'sliding-window') {
      const shape = parseIntList(values.shape, 'shape', patch.length + 1);
      const { benchSlidingWindow } = await import('../bench/slidingWindow.js');
      result = benchSlidingWindow({
        shape,
        patch,
        classes: parsePositiveInt(values.classes, 'classes', 3),
        bf16: values.bf16!,
        fp16: values.fp16!,
        threads,
        device,
        onProgress: (d, t) => {
          if (d === t || d % 20 === 0) log(`windows ${d}/${t}`);
        },
      });
    } else {
      throw new UsageError(`unknown benchmark '${what ?? ''}'\n${HELP}`);
    }
    console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
    return 0;
  },
};
