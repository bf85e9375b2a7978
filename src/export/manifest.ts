// export.json: everything an exported model needs for inference besides its networks — the plans'
// spacing, normalisation and patch of every configuration, the sliding-window settings, the label
// values and names, the channel names, the ensemble and the post-processing. Read without libtorch
// (this module imports no engine code), so src/deploy/ can run an export folder on its own.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigurationName, CascadeStage } from '../plan/planner.js';
import type { NormalizationPlan } from '../plan/normalization.js';
import type { CropRule } from '../common/background.js';
import type { PostprocessingRecipe } from '../labelmap/postprocessing.js';
import { ExportFormatError, checkManifest, type MANIFEST_FORMAT } from './manifestCheck.js';
import type { CheckpointName } from '../train/checkpointChoice.js';

export const MANIFEST_NAME = 'export.json';
export { MANIFEST_FORMAT } from './manifestCheck.js';

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
  /** The plan's crop rule (common/background.ts); absent in exports made before it: nonzero. */
  crop?: CropRule;
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
  source: { modelDir: string; checkpoint: CheckpointName; exportedAt: string };
}

export { ExportFormatError } from './manifestCheck.js';

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
  return checkManifest(m, file, (rel) => {
    const onnx = path.join(dir, rel);
    return existsSync(onnx) ? null : onnx;
  });
}
