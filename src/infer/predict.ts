// Prediction: images → label maps in the input's own geometry, with the trained model folder's
// plans and checkpoints. One configuration (folds ensembled by averaging probabilities), a cascade
// (stage 1, then stage 2), or — with no configuration named and find-best's inference.json present —
// the chosen recipe: configurations ensembled and the chosen post-processing applied.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { tidy, setThreads, type Tensor, type AutocastDType } from '../engine/index.js';
import { readImage, writeImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import { writeDicomSeg, type Segment } from '../io/dicomSeg.js';
import { channelOf } from '../dataset/volumes.js';
import type { Plans, ConfigurationName } from '../plan/planner.js';
import { readPlans } from '../plan/schema.js';
import {
  predictedLabelValues,
  arraySpacing,
  channelsToTensor,
  labelsToVolume,
} from '../grid/volumeTensor.js';
import { applyPostprocessing, type PostprocessingRecipe } from '../labelmap/postprocessing.js';
import { findInputCases, type InputCase } from './inputs.js';
import {
  loadConfigModel,
  disposeModel,
  configurationOf,
  predictProbabilities,
  cascadeProbabilities,
  type ConfigModel,
  type InferenceOptions,
} from './model.js';
import { readRecipe } from './recipe.js';
import { mirrorByDefault } from './mirror.js';
import { assertOutputOutsideInputs, isSingleFileOutput } from './outputLocation.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

export interface PredictOptions {
  input: string;
  /** An output file (single input case) or folder. */
  output: string;
  modelDir: string;
  /** A configuration; default: find-best's recipe (inference.json) when present, else 3d_fullres. */
  config?: ConfigurationName;
  /** Default: the recipe's folds, else [0]. */
  folds?: number[];
  /** Apply the recipe's post-processing (default true; only with the recipe). */
  postprocess?: boolean;
  checkpoint?: CheckpointName;
  /** Test-time mirroring; default per device (src/infer/mirror.ts): off on the CPU, on on a GPU. */
  mirror?: boolean;
  autocast?: AutocastDType | null;
  /** 'nifti' (default): label maps as .nii.gz; 'dicom-seg': a DICOM Segmentation object (.dcm) per
   * DICOM series given, one segment per label with its name, referring to the source images. */
  outputFormat?: 'nifti' | 'dicom-seg';
  /** 'cpu' (default) or 'cuda[:N]', resolved (engine/device.ts): networks and sliding windows run there. */
  device?: string;
  /** Also write the class probabilities as a 4D float32 NIfTI next to each label map. */
  saveProbabilities?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

export interface PredictResult {
  cases: { id: string; output: string; seconds: number }[];
}

async function readChannels(c: InputCase, channels: number): Promise<Volume[]> {
  const vols: Volume[] = [];
  for (const f of c.files) {
    const v = await readImage(f);
    const nt = v.shape.length > 3 ? v.shape[3]! : 1;
    for (let i = 0; i < nt; i++) vols.push(nt > 1 ? channelOf(v, i) : v);
  }
  if (vols.length !== channels) {
    throw new Error(`${c.files.join(', ')}: ${vols.length} channel(s) given, the model expects ${channels}`);
  }
  const shape = vols[0]!.shape.slice(0, 3).join('x');
  vols.forEach((v, i) => {
    if (v.shape.slice(0, 3).join('x') !== shape) {
      throw new Error(
        `${c.files[Math.min(i, c.files.length - 1)]}: channel ${i} has shape ${v.shape.slice(0, 3).join('x')}, channel 0 has ${shape}`,
      );
    }
  });
  return vols;
}

/** Loads a configuration and, for a cascade stage, the stages before it (shared through `loaded`). */
async function loadWithStages(
  modelDir: string,
  plans: Plans,
  name: ConfigurationName,
  folds: number[],
  checkpoint: CheckpointName,
  loaded: Map<ConfigurationName, ConfigModel>,
  device = 'cpu',
): Promise<void> {
  if (loaded.has(name)) return;
  const config = configurationOf(plans, name, path.join(modelDir, 'plans.json'));
  if (config.cascade)
    await loadWithStages(modelDir, plans, config.cascade.previousStage, folds, checkpoint, loaded, device);
  loaded.set(name, await loadConfigModel(modelDir, plans, name, folds, checkpoint, device));
}

/**
 * Probabilities [K, ...] of configuration `name` for one image, stages of a cascade first; results
 * are kept in `memo` (one case) so that a stage shared by several ensemble members runs once.
 */
export function configurationProbabilities(
  name: ConfigurationName,
  models: Map<ConfigurationName, ConfigModel>,
  image: Tensor,
  spacing: number[],
  o: InferenceOptions,
  memo: Map<ConfigurationName, Tensor>,
): Tensor {
  const hit = memo.get(name);
  if (hit) return hit;
  const m = models.get(name)!;
  let p: Tensor;
  if (m.config.cascade) {
    const before = configurationProbabilities(
      m.config.cascade.previousStage,
      models,
      image,
      spacing,
      o,
      memo,
    );
    const stage1 = tidy(() => before.argmax(0));
    p = cascadeProbabilities(m, image, spacing, stage1, o);
    stage1.dispose();
  } else p = predictProbabilities(m, image, spacing, o);
  memo.set(name, p);
  return p;
}

export async function predict(o: PredictOptions): Promise<PredictResult> {
  const log = o.log ?? (() => {});
  setThreads(o.threads);
  const plansFile = path.join(o.modelDir, 'plans.json');
  if (!existsSync(plansFile)) throw new Error(`${o.modelDir}: not a medseg model folder (no plans.json)`);
  const plans = await readPlans(plansFile);
  // the inputs and where their label maps go are checked before any network is loaded
  const cases = findInputCases(o.input);
  const dicomSeg = o.outputFormat === 'dicom-seg';
  const single = isSingleFileOutput(cases, o.output, dicomSeg);
  assertOutputOutsideInputs(o.input, o.output, cases, single);
  const recipe = o.config ? null : await readRecipe(o.modelDir);
  const members: ConfigurationName[] = o.config ? [o.config] : (recipe?.configurations ?? ['3d_fullres']);
  const folds = o.folds ?? recipe?.folds ?? [0];
  const which = o.checkpoint ?? recipe?.checkpoint ?? DEFAULT_CHECKPOINT;
  const post: PostprocessingRecipe | null = o.postprocess === false ? null : (recipe?.postprocessing ?? null);
  if (recipe)
    log(
      `inference recipe: ${members.join(' + ')}, folds ${folds.join(',')}${post ? ', post-processing' : ''}`,
    );
  if (dicomSeg) {
    const notSeries = cases.find((c) => c.files.length !== 1 || !statSync(c.files[0]!).isDirectory());
    if (notSeries)
      throw new Error(
        `${notSeries.files[0]}: --output-format dicom-seg needs DICOM series (folders) as input`,
      );
  }
  const models = new Map<ConfigurationName, ConfigModel>();
  try {
    for (const name of members) await loadWithStages(o.modelDir, plans, name, folds, which, models, o.device);
  } catch (e) {
    for (const m of models.values()) disposeModel(m);
    throw e;
  }
  const first = models.get(members[0]!)!.config;
  if (!single) await mkdir(o.output, { recursive: true });
  const ending = dicomSeg ? '.dcm' : '.nii.gz';
  const segments = dicomSeg ? await segmentsOf(o.modelDir, plans.labelValues) : [];
  const results: PredictResult['cases'] = [];
  const inference: InferenceOptions = {
    mirror: o.mirror ?? mirrorByDefault(o.device ?? 'cpu'),
    autocast: o.autocast ?? null,
    device: o.device,
  };
  try {
    for (const c of cases) {
      const t0 = performance.now();
      const out = single ? o.output : path.join(o.output, `${c.id}${ending}`);
      if (c.files.some((f) => path.resolve(f) === path.resolve(out)))
        throw new Error(`${out}: refusing to overwrite an input`);
      const vols = await readChannels(c, plans.channelNames.length);
      const spacing = arraySpacing(vols[0]!);
      const ratio = spacing.map((s, d) => s / first.spacing[d]!);
      if (ratio.some((r) => r > 4 || r < 0.25)) {
        log(
          `warning: ${c.files[0]}: spacing ${spacing.map((s) => s.toFixed(2)).join('x')} mm is far from the plan's ${first.spacing.map((s) => s.toFixed(2)).join('x')}`,
        );
      }
      const image = channelsToTensor(vols);
      const memo = new Map<ConfigurationName, Tensor>();
      let probs: Tensor;
      try {
        for (const name of members) configurationProbabilities(name, models, image, spacing, inference, memo);
        if (members.length === 1) {
          // taken out of the memo, not copied: one probability volume at the input's resolution
          probs = memo.get(members[0]!)!;
          memo.delete(members[0]!);
        } else {
          probs = tidy(() =>
            members
              .slice(1)
              .reduce((sum, name) => sum.add_(memo.get(name)!), memo.get(members[0]!)!.clone())
              .div_(members.length),
          );
        }
      } finally {
        image.dispose();
        for (const t of memo.values()) t.dispose();
      }
      const labels = predictedLabelValues(probs, plans);
      const labelVolume = labelsToVolume(labels, vols[0]!);
      if (post) {
        labelVolume.data = applyPostprocessing(
          labelVolume.data as Uint8Array | Int16Array,
          labels.shape,
          post,
        );
      }
      if (dicomSeg) await writeDicomSeg(out, labelVolume, c.files[0]!, segments);
      else await writeImage(out, labelVolume);
      if (o.saveProbabilities) {
        // [K, z, y, x] in C order is x fastest, then y, z, K: NIfTI's 4D order
        const arr = tidy(() => probs.contiguous().toArray() as Float32Array);
        const v0 = vols[0]!;
        await writeImage(out.replace(/\.nii(\.gz)?$/, '') + '_probabilities.nii.gz', {
          ...v0,
          data: arr,
          shape: [...v0.shape.slice(0, 3), probs.shape[0]!],
          datatype: 'float32',
          sclSlope: 1,
          sclInter: 0,
        });
      }
      labels.dispose();
      probs.dispose();
      const seconds = (performance.now() - t0) / 1000;
      results.push({ id: c.id, output: out, seconds });
      log(`${c.id} → ${out} (${seconds.toFixed(1)} s)`);
    }
  } finally {
    for (const m of models.values()) disposeModel(m);
  }
  return { cases: results };
}

/** A segment per foreground label, named as the dataset names it (fingerprint.json) where it can. */
async function segmentsOf(modelDir: string, labelValues: number[]): Promise<Segment[]> {
  const file = path.join(modelDir, 'fingerprint.json');
  const names = existsSync(file)
    ? ((JSON.parse(await readFile(file, 'utf8')) as { labels?: Record<string, number[]> }).labels ?? {})
    : {};
  return labelValues
    .filter((v) => v !== 0)
    .map((v) => ({
      value: v,
      name: Object.entries(names).find(([, vs]) => vs.length === 1 && vs[0] === v)?.[0] ?? `label ${v}`,
    }));
}
