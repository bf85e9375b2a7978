// How many bytes the page will hold at its peak for one volume, estimated before anything large is
// allocated, so that a volume too large for the tab gets a message instead of an out-of-memory
// crash. The count follows the pipeline (pipeline.ts) buffer by buffer and errs on the high side:
// what is alive at the same time is added, not maxed, except the configurations, which run one after
// the other (their probabilities in the image's grid stay until the ensemble is averaged).
import type { ExportManifest, ExportedConfiguration } from '../../../src/export/manifest';
import { resampledShape } from '../../../src/preprocess/resampleShape';
import { numel } from '../../../src/deploy/arrays';
import { formatBytes } from '../../../src/io/errors';

/** The page's default budget (a 64-bit Chromium tab holds about 4 GiB of array buffers). */
export const DEFAULT_BUDGET_BYTES = 3 * 1024 ** 3;

/** Every configuration the members need, earlier cascade stages first. */
export function neededConfigurations(m: ExportManifest): ExportedConfiguration[] {
  const out: ExportedConfiguration[] = [];
  const add = (name: string) => {
    if (out.some((c) => c.name === name)) return;
    const c = m.configurations.find((x) => x.name === name)!;
    if (c.cascade) add(c.cascade.previousStage);
    out.push(c);
  };
  m.members.forEach(add);
  return out;
}

/** Bytes held while the image file is read: its inflated bytes and the voxels copied out of them. */
export function readingBytes(voxelDataBytes: number, headerBytes: number): number {
  return 2 * voxelDataBytes + headerBytes;
}

export interface PipelineSize {
  /** The whole image, (z, y, x). */
  shape: number[];
  /** Its non-zero crop, (z, y, x): what the pipeline runs on. */
  crop: number[];
  /** (z, y, x) mm. */
  spacing: number[];
  channels: number;
  /** The source voxels (still alive during the run: Niivue shows them). */
  sourceBytes: number;
}

/** Peak bytes of one segmentation of `s` by the export `m`. */
export function pipelineBytes(s: PipelineSize, m: ExportManifest): number {
  const F = 4;
  const V = numel(s.shape);
  const Vc = numel(s.crop);
  const K = m.labelValues.length;
  let total = s.sourceBytes + s.channels * Vc * F; // the source, the float crop
  const configs = neededConfigurations(m);
  let worstStage = 0;
  for (const c of configs) {
    const r = resampledShape(s.crop, s.spacing, c.spacing);
    const R = numel(r);
    // images smaller than a patch are padded to it in the sliding window
    const Rp = c.dims === 3 ? numel(r.map((n, d) => Math.max(n, c.patch[d]!))) : R;
    const P = numel(c.patch);
    const C = c.inputChannels;
    // a batch of windows and its mirrored copy, the logits, their mirror and the running sum
    const windows = m.slidingWindow.batch * P * (C * 2 + K * 3);
    // normalised crop and its resampled copy (+ one axis-pass intermediate each), the accumulator and
    // weights, the Gaussian, the windows, then the probabilities back in the crop grid (+ intermediate)
    const stage =
      C * Vc * F * 2 + C * R * F * 2 + (K + 1) * Rp * F + P * F + windows * F + K * R * F + K * Vc * F * 2;
    worstStage = Math.max(worstStage, stage);
    total += K * Vc * F; // this configuration's probabilities, kept for the ensemble
  }
  total += worstStage;
  total += K * Vc * F + Vc * 2 + V * 2; // the ensemble's sum, argmax, labels in the crop and the whole
  total += V * 2; // the NIfTI of the label map handed to Niivue and Niivue's copy of it
  return total;
}

/** Bytes of the ONNX models' sessions: the weights about three times (file, runtime, arena). */
export const sessionBytes = (modelBytes: number) => 3 * modelBytes;

/** The message for a volume that does not fit, or null. */
export function tooLarge(what: string, need: number, budget: number): string | null {
  if (need <= budget) return null;
  return `${what} needs about ${formatBytes(need)} in this page, more than its ${formatBytes(budget)} budget: crop or downsample it, or run medseg predict -m EXPORT_DIR on a machine with more memory`;
}
