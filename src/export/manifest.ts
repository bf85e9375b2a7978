// export.json: everything an exported model needs for inference besides its networks — the plans'
// spacing, normalisation and patch of every configuration, the sliding-window settings, the label
// values and names, the channel names, the ensemble and the post-processing. Read without libtorch
// (this module imports no engine code), so src/deploy/ can run an export folder on its own.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigurationName, CascadeStage } from '../plan/planner.js';
import type { NormalizationPlan } from '../plan/normalization.js';
import type { PostprocessingRecipe } from '../labelmap/postprocessing.js';

export const MANIFEST_NAME = 'export.json';
export const MANIFEST_FORMAT = 'medseg-onnx-export';

export type ConvTransposeMode = 'native' | 'depthToSpace';

export interface ExportedFold {
  fold: number;
  /** ONNX file, relative to the export folder. */
  file: string;
  bytes: number;
  /** The checkpoint it came from (size and mtime: an export is reused only while they match). */
  checkpoint: { file: string; bytes: number; mtimeMs: number };
}

export interface ExportedConfiguration {
  name: ConfigurationName;
  dims: 2 | 3;
  /** Target spacing (z, y, x) mm. */
  spacing: number[];
  patch: number[];
  normalization: NormalizationPlan[];
  imageInterpolation: 'linear' | 'cubic';
  /** Network input channels (the image's, plus K-1 prior channels for the cascade's prior variant). */
  inputChannels: number;
  numClasses: number;
  cascade?: CascadeStage;
  folds: ExportedFold[];
}

export interface SlidingWindowSettings {
  /** Fraction of the patch between window starts. */
  step: number;
  /** Gaussian importance sigma as a fraction of the patch. */
  sigmaScale: number;
  /** Windows per network call. */
  batch: number;
  /** The axes `--mirror` flips (test-time augmentation), within the patch. */
  mirrorAxes3d: number[];
  mirrorAxes2d: number[];
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  opset: number;
  convTranspose: ConvTransposeMode;
  dataset: string;
  channelNames: string[];
  /** Label value of each class index. */
  labelValues: number[];
  /** Label value (string key) → name, where the model folder's fingerprint names it. */
  labelNames: Record<string, string>;
  /** Configurations whose probabilities are averaged. */
  members: ConfigurationName[];
  /** Every configuration the members need, earlier cascade stages first. */
  configurations: ExportedConfiguration[];
  postprocessing: PostprocessingRecipe | null;
  slidingWindow: SlidingWindowSettings;
  source: { modelDir: string; checkpoint: 'best' | 'latest'; exportedAt: string };
}

export class ExportFormatError extends Error {}

/** True when `dir` holds an export (export.json). */
export const isExportFolder = (dir: string): boolean => existsSync(path.join(dir, MANIFEST_NAME));

/** Reads and checks an export folder's export.json; one clear error naming the file otherwise. */
export function readManifest(dir: string): ExportManifest {
  const file = path.join(dir, MANIFEST_NAME);
  if (!existsSync(file))
    throw new ExportFormatError(`${dir}: not an ONNX export folder (no ${MANIFEST_NAME})`);
  let m: ExportManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ExportManifest;
  } catch (e) {
    throw new ExportFormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const bad = (why: string) => new ExportFormatError(`${file}: ${why}`);
  if (m.format !== MANIFEST_FORMAT)
    throw bad(`format is '${String(m.format)}', expected '${MANIFEST_FORMAT}'`);
  if (m.version !== 1) throw bad(`version ${String(m.version)} is not supported (this medseg reads 1)`);
  if (!Array.isArray(m.channelNames) || !m.channelNames.length) throw bad('channelNames missing');
  if (!Array.isArray(m.labelValues) || m.labelValues.length < 2) throw bad('labelValues missing');
  if (!Array.isArray(m.configurations) || !m.configurations.length) throw bad('no configurations');
  if (!Array.isArray(m.members) || !m.members.length) throw bad('no members');
  const names = new Set(m.configurations.map((c) => c.name));
  for (const name of m.members) if (!names.has(name)) throw bad(`member '${name}' has no configuration`);
  for (const c of m.configurations) {
    if (c.dims !== 2 && c.dims !== 3) throw bad(`${c.name}: dims must be 2 or 3`);
    if (!Array.isArray(c.patch) || c.patch.length !== c.dims)
      throw bad(`${c.name}: patch must have ${c.dims} entries`);
    if (!Array.isArray(c.spacing) || c.spacing.length !== 3)
      throw bad(`${c.name}: spacing must have 3 entries`);
    if (!Array.isArray(c.normalization) || c.normalization.length !== m.channelNames.length)
      throw bad(`${c.name}: normalization must have one entry per channel (${m.channelNames.length})`);
    if (c.numClasses !== m.labelValues.length)
      throw bad(`${c.name}: numClasses ${c.numClasses}, but ${m.labelValues.length} label values`);
    if (c.cascade && !names.has(c.cascade.previousStage))
      throw bad(`${c.name}: its previous stage ${c.cascade.previousStage} is not exported`);
    if (!Array.isArray(c.folds) || !c.folds.length) throw bad(`${c.name}: no folds`);
    for (const f of c.folds) {
      const onnx = path.join(dir, f.file);
      if (!existsSync(onnx)) throw bad(`${c.name} fold ${f.fold}: ${onnx} is missing`);
    }
  }
  return m;
}
