// `medseg predict -i IN -o OUT -m MODEL_DIR`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseInteger, parseCheckpoint, FOLD_RANGE, THREADS_RANGE } from './args.js';
import { deviceOption, parseDeviceOption, DEVICE_HELP } from './device.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import { mirrorByDefault } from '../infer/mirror.js';
import { autocastByDefault } from '../infer/precision.js';

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

// mirroring's default per device (src/infer/mirror.ts, no libtorch): off on the CPU unless asked, on on a GPU
export { mirrorByDefault };

const HELP = `usage: medseg predict -i IN -o OUT -m MODEL_DIR|FILE.medseg [--config NAME] [--folds 0,1,2|all]
                      [--checkpoint latest|best] [--mirror|--no-mirror] [--bf16 | --fp16 | --fp32] [--save-probabilities]
                      [--no-postprocess] [--output-format nifti|dicom-seg] [--threads N]
                      [--device auto|cpu|cuda|cuda:N] [--engine libtorch|onnx] [--task NAME]

IN is an image file (NIfTI, NRRD; 4D = channels), a DICOM series folder, or a folder of images
(nnU-Net naming CASE_0000.nii.gz for channels). Label maps are written in each input's own
geometry and affine, atomically; inputs are never overwritten. Folds are ensembled by averaging
probabilities.
Without --config: the recipe find-best wrote (MODEL/inference.json: configurations ensembled, all
folds, the chosen post-processing, the checkpoint its out-of-fold predictions were made with), or
3d_fullres fold 0 when there is none. --checkpoint: the last epoch's weights (latest) unless the
recipe or this option says best (the epoch with the best EMA pseudo-Dice on the fold's validation
cases; chosen by those cases, it did worse on unseen ones: bench/RESULTS.md). A cascade stage
(3d_cascade_prior, 3d_cascade_crop; 3d_cascade = the variant find-best ranked higher, else the
prior variant) runs 3d_lowres first.
--output-format dicom-seg (DICOM series in): a DICOM Segmentation object per series (OUT.dcm or
OUT/SERIES.dcm), one segment per label with the dataset's label names, each frame referring to its
source image, for PACS viewers.
${DEVICE_HELP}
On a GPU the sliding window's Gaussian accumulation stays on the GPU when it fits in free memory,
else it runs on the CPU; --bf16 also applies on a GPU, --fp16 (float16 autocast) only there.
On a CPU with native bf16 (AVX512-BF16 or AMX) prediction runs under bf16 autocast by default, as
training does (one BraTS case: 24.6 s against 50.6 s in fp32, 99.99 % of voxels equal); --fp32
turns it off.
MODEL_DIR may also be an ONNX export folder (\`medseg export\`: it has export.json): it runs with
onnxruntime-node, without libtorch. --engine onnx runs a model folder the same way, exporting it
into MODEL_DIR/export/ first (reused while its checkpoints are unchanged).
Mirroring (test-time augmentation over every flip of the spatial axes, all of which training's
augmentation mirrors: 8 network passes per window in 3D, 4 in 2D) is off by default on the CPU,
where it multiplies the time per case by ~8 (measured on a 2-core CPU, one BraTS case: nnU-Net v2
140 s → 1105 s; medseg 5.3× on a small case: bench/mirror-cost.mjs) for a small gain in Dice;
--mirror turns it on. On a GPU it is on by default (--no-mirror turns it off).
Post-processing: find-best's choice; after a budgeted \`train\` without cross-validation, the choice
that run wrote (its validation cases, else a prior from the training labels; inference.json says
which and why). --no-postprocess skips it.
--task NAME (a model of train-multi / meta-train): predicts with task NAME's head (and input stem),
through that task's own plans (MODEL/tasks/NAME; a package of a train-multi model carries every
task's folder); an unknown name lists the model's tasks.`;

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
        mirror: { type: 'boolean' },
        'no-mirror': { type: 'boolean' },
        bf16: { type: 'boolean', default: false },
        fp16: { type: 'boolean', default: false },
        fp32: { type: 'boolean', default: false },
        'save-probabilities': { type: 'boolean', default: false },
        'output-format': { type: 'string', default: 'nifti' },
        threads: { type: 'string' },
        ...deviceOption,
        engine: { type: 'string' },
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
    if (values.mirror && values['no-mirror'])
      throw new UsageError('--mirror and --no-mirror exclude each other');
    const checkpoint = parseCheckpoint(values.checkpoint, 'checkpoint');
    const outputFormat = values['output-format'];
    if (outputFormat !== 'nifti' && outputFormat !== 'dicom-seg')
      throw new UsageError(`--output-format must be nifti or dicom-seg, not '${outputFormat}'`);
    const threads = parseInteger(values.threads, 'threads', THREADS_RANGE);
    // a .medseg package is unpacked (once, into the cache) and used as its model folder; a folder
    // (or a missing path) goes on as before
    const { isPackageFile, resolveModel } = await import('../transfer/open.js');
    let model = isPackageFile(values.model)
      ? await resolveModel(values.model, { log: (s) => process.stderr.write(`${s}\n`) })
      : values.model;
    // a task of a multi-task model (folder or package): that task's own model folder inside it
    if (values.task !== undefined) {
      const { taskModelDir } = await import('../multitask/view.js');
      model = await taskModelDir(model, values.task, values.model);
    }
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
    if (values.engine !== undefined && values.engine !== 'libtorch' && values.engine !== 'onnx')
      throw new UsageError(`--engine must be libtorch or onnx, got '${values.engine}'`);
    const { isExportFolder } = await import('../export/manifest.js');
    const isExport = isExportFolder(model);
    if (isExport && values.engine === 'libtorch')
      throw new UsageError(`${values.model} is an ONNX export: it runs with --engine onnx only`);
    if (isExport || values.engine === 'onnx') {
      if (values.bf16 || values.fp16) throw new UsageError('--bf16 and --fp16 are for the libtorch engine');
      if (values.device !== 'auto' && values.device !== 'cpu')
        throw new UsageError('--device is for the libtorch engine (onnxruntime-node runs on the CPU)');
      if (outputFormat !== 'nifti')
        throw new UsageError('--output-format dicom-seg is for the libtorch engine');
      // predictions never land among the inputs or in a dataset (checked here too: libtorch never loads)
      const { findInputCases } = await import('../infer/inputs.js');
      const { assertOutputOutsideInputs, isSingleFileOutput } = await import('../infer/outputLocation.js');
      const cases = findInputCases(values.input);
      assertOutputOutsideInputs(
        values.input,
        values.output,
        cases,
        isSingleFileOutput(cases, values.output, false),
      );
      const log = (s: string) => process.stderr.write(`${s}\n`);
      let exportDir = model;
      if (!isExport) {
        // exporting needs libtorch; an export folder alone does not
        const { ensureExport } = await import('../export/ensureExport.js');
        exportDir = await ensureExport({
          modelDir: model,
          config,
          folds,
          checkpoint,
          log,
        });
      }
      const { predictOnnx } = await import('../deploy/predictOnnx.js');
      const r = await predictOnnx({
        input: values.input,
        output: values.output,
        exportDir,
        config: isExport ? config : undefined,
        folds: isExport ? folds : undefined,
        postprocess: !values['no-postprocess'],
        mirror: values.mirror,
        saveProbabilities: values['save-probabilities'],
        threads,
        log,
      });
      console.log(`wrote ${r.cases.length} label map(s)`);
      return 0;
    }
    // refused before libtorch loads: predictions never land among the inputs or in a dataset
    if ([values.fp16, values.bf16, values.fp32].filter(Boolean).length > 1)
      throw new UsageError('--fp16, --bf16 and --fp32 exclude each other');
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
      checkpoint,
      postprocess: !values['no-postprocess'],
      mirror: values['no-mirror'] ? false : (values.mirror ?? mirrorByDefault(device)),
      autocast: values.fp16
        ? 'float16'
        : values.bf16
          ? 'bfloat16'
          : values.fp32
            ? null
            : autocastByDefault(device),
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
