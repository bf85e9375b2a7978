// `medseg export MODEL --format onnx -o DIR`: every configuration and fold of a model's inference
// recipe (MODEL/inference.json; else 3d_fullres with the folds that have a checkpoint; a cascade with
// its earlier stage) as ONNX files, plus export.json with the rest of what inference needs.
import { readPlans } from '../plan/schema.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { Plans, ConfigurationName, Configuration } from '../plan/planner.js';
import type { Fingerprint } from '../plan/fingerprint.js';
import { readRecipe } from '../infer/recipe.js';
import { configurationOf, loadConfigModel, disposeModel } from '../infer/model.js';
import { encodeModel, ONNX_OPSET } from './onnx.js';
import { unetGraph } from './unetGraph.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  type ConvTransposeMode,
  type ExportManifest,
  type ExportedConfiguration,
} from './manifest.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

export interface ExportOptions {
  modelDir: string;
  /** The export folder (created; existing files of the same names are replaced atomically). */
  output: string;
  /** One configuration instead of the recipe's. */
  config?: ConfigurationName;
  /** Default: the recipe's folds, else every fold with a checkpoint. */
  folds?: number[];
  checkpoint?: CheckpointName;
  /** 'depthToSpace': transposed convs as conv + depth-to-space (onnxruntime-web's WebGPU). */
  convTranspose?: ConvTransposeMode;
  /** Windows per network call written into export.json (default 2, as libtorch's predict). */
  batch?: number;
  log?: (s: string) => void;
}

export interface ExportResult {
  manifestFile: string;
  manifest: ExportManifest;
  files: string[];
}

const checkpointFile = (modelDir: string, name: string, fold: number, which: string) =>
  path.join(modelDir, name, `fold_${fold}`, `checkpoint_${which}.safetensors`);

/** Folds of a configuration that have a checkpoint, in order. */
export function trainedFolds(modelDir: string, name: string, which: CheckpointName): number[] {
  const dir = path.join(modelDir, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((d) => /^fold_(\d+)$/.exec(d))
    .filter(
      (m): m is RegExpExecArray => !!m && existsSync(checkpointFile(modelDir, name, Number(m[1]), which)),
    )
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Label value → name from the model folder's fingerprint (labels whose class is one value). */
async function labelNames(modelDir: string, values: number[]): Promise<Record<string, string>> {
  const file = path.join(modelDir, 'fingerprint.json');
  const out: Record<string, string> = {};
  if (existsSync(file)) {
    const fp = JSON.parse(await readFile(file, 'utf8')) as Partial<Fingerprint>;
    for (const [name, vals] of Object.entries(fp.labels ?? {}))
      if (Array.isArray(vals) && vals.length === 1 && values.includes(vals[0]!)) out[String(vals[0])] = name;
  }
  for (const v of values) out[String(v)] ??= v === 0 ? 'background' : `label ${v}`;
  return out;
}

/** What a model's export contains (configurations with earlier stages first, folds, checkpoint). */
export async function exportPlan(
  o: Pick<ExportOptions, 'modelDir' | 'config' | 'folds' | 'checkpoint'>,
): Promise<{
  plans: Plans;
  members: ConfigurationName[];
  configs: Configuration[];
  folds: Map<string, number[]>;
  checkpoint: CheckpointName;
  recipe: Awaited<ReturnType<typeof readRecipe>>;
}> {
  const plansFile = path.join(o.modelDir, 'plans.json');
  if (!existsSync(plansFile)) throw new Error(`${o.modelDir}: not a medseg model folder (no plans.json)`);
  const plans = await readPlans(plansFile);
  if (plans.regions)
    throw new Error(
      `${plansFile}: region-based models (sigmoid outputs) cannot be exported yet: the ONNX pipeline takes the argmax over classes`,
    );
  const recipe = o.config ? null : await readRecipe(o.modelDir);
  const members: ConfigurationName[] = o.config ? [o.config] : (recipe?.configurations ?? ['3d_fullres']);
  const checkpoint = o.checkpoint ?? recipe?.checkpoint ?? DEFAULT_CHECKPOINT;
  const configs: Configuration[] = [];
  const add = (name: ConfigurationName) => {
    if (configs.some((c) => c.name === name)) return;
    const c = configurationOf(plans, name, plansFile);
    if (c.cascade) add(c.cascade.previousStage);
    configs.push(c);
  };
  members.forEach(add);
  const folds = new Map<string, number[]>();
  for (const c of configs) {
    const f = o.folds ?? recipe?.folds ?? trainedFolds(o.modelDir, c.name, checkpoint);
    if (!f.length)
      throw new Error(
        `${path.join(o.modelDir, c.name)}: no fold has a checkpoint_${checkpoint}.safetensors (was ${c.name} trained?)`,
      );
    folds.set(c.name, f);
  }
  return { plans, members, configs, folds, checkpoint, recipe };
}

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  const log = o.log ?? (() => {});
  const mode = o.convTranspose ?? 'native';
  const { plans, members, configs, folds, checkpoint, recipe } = await exportPlan(o);
  await mkdir(o.output, { recursive: true });
  const files: string[] = [];
  const exported: ExportedConfiguration[] = [];
  for (const c of configs) {
    const fs = folds.get(c.name)!;
    const m = await loadConfigModel(o.modelDir, plans, c.name, fs, checkpoint);
    const entry: ExportedConfiguration = {
      name: c.name,
      dims: c.network.dims as 2 | 3,
      spacing: c.spacing,
      patch: c.patch,
      normalization: c.normalization,
      ...(c.crop ? { crop: c.crop } : {}),
      imageInterpolation: c.imageInterpolation,
      inputChannels: c.network.inputChannels,
      numClasses: c.network.numClasses,
      ...(c.cascade ? { cascade: c.cascade } : {}),
      folds: [],
    };
    try {
      for (let i = 0; i < fs.length; i++) {
        const fold = fs[i]!;
        const bytes = encodeModel(
          unetGraph(m.nets[i]!, { patch: c.patch, convTranspose: mode, name: `${c.name}_fold_${fold}` }),
          {
            docString: `medseg ${c.name} fold ${fold} (${plans.dataset}): logits [N, ${c.network.numClasses}, ${c.patch.join(', ')}]`,
            metadata: { configuration: c.name, fold: String(fold), convTranspose: mode },
          },
        );
        const rel = `${c.name}_fold_${fold}.onnx`;
        const file = path.join(o.output, rel);
        await writeFileAtomic(file, bytes);
        const ck = checkpointFile(o.modelDir, c.name, fold, checkpoint);
        const st = statSync(ck);
        entry.folds.push({
          fold,
          file: rel,
          bytes: bytes.length,
          checkpoint: { file: path.resolve(ck), bytes: st.size, mtimeMs: st.mtimeMs },
        });
        files.push(file);
        log(`${c.name} fold ${fold} → ${file} (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);
      }
    } finally {
      disposeModel(m);
    }
    exported.push(entry);
  }
  const manifest: ExportManifest = {
    format: MANIFEST_FORMAT,
    version: 1,
    opset: ONNX_OPSET,
    convTranspose: mode,
    dataset: plans.dataset,
    channelNames: plans.channelNames,
    labelValues: plans.labelValues,
    labelNames: await labelNames(o.modelDir, plans.labelValues),
    members,
    configurations: exported,
    postprocessing: recipe?.postprocessing ?? null,
    slidingWindow: {
      step: 0.5,
      sigmaScale: 1 / 8,
      batch: o.batch ?? 2,
      mirrorAxes3d: [0, 1, 2],
      mirrorAxes2d: [0, 1],
    },
    source: { modelDir: path.resolve(o.modelDir), checkpoint, exportedAt: new Date().toISOString() },
  };
  const manifestFile = path.join(o.output, MANIFEST_NAME);
  await writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2));
  log(`${manifestFile}: ${members.join(' + ')}, opset ${ONNX_OPSET}`);
  return { manifestFile, manifest, files };
}
