// `medseg predict -i IN -o OUT -m MODEL_DIR`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseInteger, FOLD_RANGE, THREADS_RANGE } from './args.js';
import { deviceOption, parseDeviceOption, DEVICE_HELP } from './device.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';

/** `3d_cascade`: the variant find-best ranked higher (inference.json), else the prior variant. */
async function cascadeVariant(model: string): Promise<ConfigurationName> {
  const { readRecipe } = await import('../infer/recipe.js');
  const recipe = await readRecipe(model);
  const ranked = recipe?.candidates.find(
    (c) => c.members.length === 1 && c.members[0]!.startsWith('3d_cascade_'),
  );
  return ranked?.members[0] ?? '3d_cascade_prior';
}

/** Every fold of the model's splits.json (5 when there is none). */
async function allFolds(model: string): Promise<number[]> {
  const file = path.join(model, 'splits.json');
  const { readSplits } = await import('../train/splits.js');
  const n = existsSync(file) ? (await readSplits(file)).length : 5;
  return Array.from({ length: n }, (_, f) => f);
}

const HELP = `usage: medseg predict -i IN -o OUT -m MODEL_DIR|FILE.medseg [--config NAME] [--folds 0,1,2|all]
                      [--checkpoint best|latest] [--mirror] [--bf16 | --fp16] [--save-probabilities]
                      [--no-postprocess] [--output-format nifti|dicom-seg] [--threads N]
                      [--device auto|cpu|cuda|cuda:N]
                      [--task NAME]

IN is an image file (NIfTI, NRRD; 4D = channels), a DICOM series folder, or a folder of images
(nnU-Net naming CASE_0000.nii.gz for channels). Label maps are written in each input's own
geometry and affine, atomically; inputs are never overwritten. Folds are ensembled by averaging
probabilities.
Without --config: the recipe find-best wrote (MODEL/inference.json: configurations ensembled, all
folds, the chosen post-processing), or 3d_fullres fold 0 when there is none. A cascade stage
(3d_cascade_prior, 3d_cascade_crop; 3d_cascade = the variant find-best ranked higher, else the
prior variant) runs 3d_lowres first.
--output-format dicom-seg (DICOM series in): a DICOM Segmentation object per series (OUT.dcm or
OUT/SERIES.dcm), one segment per label with the dataset's label names, each frame referring to its
source image, for PACS viewers.
${DEVICE_HELP}
On a GPU the sliding window's Gaussian accumulation stays on the GPU when it fits in free memory,
else it runs on the CPU; --bf16 also applies on a GPU, --fp16 (float16 autocast) only there.
--task NAME (a model of train-multi / meta-train): predicts with task NAME's head (and input stem),
through that task's own plans (MODEL/tasks/NAME); an unknown name lists the model's tasks.`;

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
        config: { type: 'string', short: 'c' },
        folds: { type: 'string' },
        checkpoint: { type: 'string' },
        'no-postprocess': { type: 'boolean', default: false },
        mirror: { type: 'boolean', default: false },
        bf16: { type: 'boolean', default: false },
        fp16: { type: 'boolean', default: false },
        'save-probabilities': { type: 'boolean', default: false },
        'output-format': { type: 'string', default: 'nifti' },
        threads: { type: 'string' },
        ...deviceOption,
        task: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!values.input || !values.output || !values.model)
      throw new UsageError(`-i, -o and -m are required\n${HELP}`);
    if (values.task !== undefined) {
      const { taskModelDir } = await import('../multitask/view.js');
      values.model = await taskModelDir(values.model, values.task);
    }
    if (values.checkpoint !== undefined && values.checkpoint !== 'best' && values.checkpoint !== 'latest')
      throw new UsageError('--checkpoint must be best or latest');
    const outputFormat = values['output-format'];
    if (outputFormat !== 'nifti' && outputFormat !== 'dicom-seg')
      throw new UsageError(`--output-format must be nifti or dicom-seg, not '${outputFormat}'`);
    const threads = parseInteger(values.threads, 'threads', THREADS_RANGE);
    // a .medseg package is unpacked (once, into the cache) and used as its model folder; a folder
    // (or a missing path) goes on as before
    const { isPackageFile, resolveModel } = await import('../transfer/open.js');
    const model = isPackageFile(values.model)
      ? await resolveModel(values.model, { log: (s) => process.stderr.write(`${s}\n`) })
      : values.model;
    const config = (values.config === '3d_cascade' ? await cascadeVariant(model) : values.config) as
      ConfigurationName | undefined;
    if (config !== undefined && !CONFIGURATION_NAMES.includes(config))
      throw new UsageError(`unknown --config '${config}'`);
    const folds =
      values.folds === undefined
        ? undefined
        : values.folds === 'all'
          ? await allFolds(model)
          : values.folds.split(',').map((f) => parseInteger(f, 'folds', FOLD_RANGE)!);
    // refused before libtorch loads: predictions never land among the inputs or in a dataset
    if (values.fp16 && values.bf16) throw new UsageError('--fp16 and --bf16 exclude each other');
    const device = await parseDeviceOption(values.device);
    if (values.fp16 && device === 'cpu')
      throw new UsageError('--fp16 needs a GPU (--device cuda); on the CPU use --bf16');
    const { findInputCases } = await import('../infer/inputs.js');
    const { assertOutputOutsideInputs, isSingleFileOutput } = await import('../infer/outputLocation.js');
    const cases = findInputCases(values.input);
    const single = isSingleFileOutput(cases, values.output, outputFormat === 'dicom-seg');
    assertOutputOutsideInputs(values.input, values.output, cases, single);
    const { predict } = await import('../infer/predict.js');
    const r = await predict({
      input: values.input,
      output: values.output,
      modelDir: model,
      config,
      folds,
      checkpoint: values.checkpoint as 'best' | 'latest' | undefined,
      postprocess: !values['no-postprocess'],
      mirror: values.mirror,
      autocast: values.fp16 ? 'float16' : values.bf16 ? 'bfloat16' : null,
      device,
      saveProbabilities: values['save-probabilities'],
      outputFormat,
      threads,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    console.log(`wrote ${r.cases.length} label map(s)`);
    return 0;
  },
};
