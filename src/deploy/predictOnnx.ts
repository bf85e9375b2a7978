// Prediction from an ONNX export folder with onnxruntime-node, no libtorch: the pipeline of
// src/infer/predict.ts on plain arrays — preprocessing, sliding window (mirroring optional), folds
// averaged, a cascade's stages in order, configurations ensembled, the post-processing, label maps
// written in each input's own geometry.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import type { ConfigurationName } from '../plan/planner.js';
import { findInputCases } from '../infer/inputs.js';
import { cascadeBoxes, minimumBoxSize } from '../preprocess/cascadeBoxes.js';
import { applyPostprocessing } from '../labelmap/postprocessing.js';
import { readManifest, type ExportManifest } from '../export/manifest.js';
import { OnnxNetwork } from './onnxNetwork.js';
import {
  Predictor,
  argmaxChannels,
  ensembleProbabilities,
  labelValuesOf,
  type CascadeBoxFinder,
  type LoadedConfiguration,
} from './pipeline.js';
import { readCase } from './readCase.js';

export interface OnnxPredictOptions {
  input: string;
  /** An output file (single input case) or folder. */
  output: string;
  /** An export folder (export.json and its ONNX files). */
  exportDir: string;
  /** One configuration of the export instead of its members. */
  config?: ConfigurationName;
  /** A subset of the exported folds (default: all). */
  folds?: number[];
  postprocess?: boolean;
  mirror?: boolean;
  saveProbabilities?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

export interface OnnxPredictResult {
  cases: { id: string; output: string; seconds: number }[];
}

export { argmaxChannels } from './pipeline.js';

/** The crop variant's boxes: one per stage-1 component, grown to a margin and one stage-2 patch. */
const findCascadeBoxes: CascadeBoxFinder = (stage1, shape, spacing, config) =>
  cascadeBoxes(stage1, shape, {
    spacing,
    marginMm: config.cascade!.marginMm,
    minSize: minimumBoxSize(config.patch, config.spacing, spacing),
  });

/** The networks of every configuration `members` need (their earlier stages too). */
async function loadNetworks(
  dir: string,
  m: ExportManifest,
  members: ConfigurationName[],
  folds: number[] | undefined,
  threads: number | undefined,
): Promise<Map<string, LoadedConfiguration & { nets: OnnxNetwork[] }>> {
  const out = new Map<string, LoadedConfiguration & { nets: OnnxNetwork[] }>();
  const add = async (name: ConfigurationName) => {
    if (out.has(name)) return;
    const config = m.configurations.find((c) => c.name === name);
    if (!config)
      throw new Error(
        `${dir}: no configuration '${name}' exported (it has ${m.configurations.map((c) => c.name).join(', ')})`,
      );
    if (config.cascade) await add(config.cascade.previousStage);
    const chosen = folds ? config.folds.filter((f) => folds.includes(f.fold)) : config.folds;
    if (!chosen.length)
      throw new Error(
        `${dir}: ${name} has folds ${config.folds.map((f) => f.fold).join(', ')}, not ${folds!.join(', ')}`,
      );
    const entry: LoadedConfiguration & { nets: OnnxNetwork[] } = { config, nets: [] };
    out.set(name, entry);
    for (const f of chosen)
      entry.nets.push(
        await OnnxNetwork.load(path.join(dir, f.file), {
          threads,
          inputChannels: config.inputChannels,
          numClasses: config.numClasses,
          patch: config.patch,
        }),
      );
  };
  try {
    for (const name of members) await add(name);
  } catch (e) {
    for (const c of out.values()) for (const n of c.nets) await n.dispose();
    throw e;
  }
  return out;
}

export async function predictOnnx(o: OnnxPredictOptions): Promise<OnnxPredictResult> {
  const log = o.log ?? (() => {});
  const m = readManifest(o.exportDir);
  const members = o.config ? [o.config] : m.members;
  const post = o.postprocess === false || o.config ? null : m.postprocessing;
  log(
    `ONNX export ${o.exportDir}: ${members.join(' + ')}${post ? ', post-processing' : ''} (onnxruntime-node)`,
  );
  const loaded = await loadNetworks(o.exportDir, m, members, o.folds, o.threads);
  const predictor = new Predictor(m, loaded, { mirror: !!o.mirror, cascadeBoxes: findCascadeBoxes });
  const first = loaded.get(members[0]!)!.config;
  const results: OnnxPredictResult['cases'] = [];
  try {
    const cases = findInputCases(o.input);
    const single = cases.length === 1 && /\.(nii|nii\.gz|nrrd)$/i.test(o.output);
    if (!single) await mkdir(o.output, { recursive: true });
    for (const c of cases) {
      const t0 = performance.now();
      const out = single ? o.output : path.join(o.output, `${c.id}.nii.gz`);
      if (c.files.some((f) => path.resolve(f) === path.resolve(out)))
        throw new Error(`${out}: refusing to overwrite an input`);
      const { image, spacing, like } = await readCase(c, m.channelNames.length);
      const ratio = spacing.map((s, d) => s / first.spacing[d]!);
      if (ratio.some((r) => r > 4 || r < 0.25))
        log(
          `warning: ${c.files[0]}: spacing ${spacing.map((s) => s.toFixed(2)).join('x')} mm is far from the plan's ${first.spacing.map((s) => s.toFixed(2)).join('x')}`,
        );
      const probs = await ensembleProbabilities(predictor, members, image, spacing);
      const idx = argmaxChannels(probs);
      const { labels: raw, datatype } = labelValuesOf(idx, m.labelValues);
      let labels = raw;
      if (post) labels = applyPostprocessing(labels, image.shape, post);
      const labelVolume: Volume = {
        data: labels,
        shape: like.shape.slice(0, 3),
        spacing: like.spacing,
        affine: like.affine.map((r) => [...r]),
        datatype,
        sclSlope: 1,
        sclInter: 0,
      };
      await writeImage(out, labelVolume);
      if (o.saveProbabilities)
        await writeImage(out.replace(/\.nii(\.gz)?$/, '') + '_probabilities.nii.gz', {
          ...like,
          data: probs.data,
          shape: [...like.shape.slice(0, 3), probs.channels],
          datatype: 'float32',
          sclSlope: 1,
          sclInter: 0,
        });
      const seconds = (performance.now() - t0) / 1000;
      results.push({ id: c.id, output: out, seconds });
      log(`${c.id} → ${out} (${seconds.toFixed(1)} s)`);
    }
  } finally {
    for (const c of loaded.values()) for (const n of c.nets) await n.dispose();
  }
  return { cases: results };
}
