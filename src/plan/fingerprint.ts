// The dataset fingerprint (fingerprint.json): what the planner needs to know about a dataset —
// per case spacing, shape and shape after cropping; per channel foreground intensity statistics
// (sampled from labelled voxels, as nnU-Net does for CT normalisation); per class voxel counts and
// volumes, so that planners see tiny structures. Spacings and shapes are in array order (z, y, x).
import { writeFileAtomic } from '../io/atomic.js';
import path from 'node:path';
import { Tensor, tidy, noGrad, maskedSelect, sort } from '../engine/index.js';
import { readCaseVolumes } from '../dataset/volumes.js';
import type { Dataset } from '../dataset/types.js';
import { arraySpacing, channelsToTensor, labelsToTensor } from '../grid/volumeTensor.js';
import { boxOf, cropBox } from '../grid/crop.js';
import type { CropRule } from '../common/background.js';
import { labelComponents } from '../labelmap/components.js';
import { percentile, median } from '../common/stats.js';
import type { IntensityStats, CaseFingerprint, Fingerprint } from './schema.js';

// The types of fingerprint.json are inferred from its schema (schema.ts), which checks it when read.
export type { IntensityStats, CaseFingerprint, Fingerprint } from './schema.js';

const SAMPLES_PER_CASE = 10_000;

/** Deterministic sample of up to n values (a fixed-stride pick keeps it reproducible and even). */
function sampleValues(values: Float32Array, n: number): Float32Array {
  if (values.length <= n) return values;
  const out = new Float32Array(n);
  const stride = values.length / n;
  for (let i = 0; i < n; i++) out[i] = values[Math.floor(i * stride)]!;
  return out;
}

/** numpy's default percentile (linear interpolation between closest ranks) of sorted values. */
export const percentileSorted = percentile;

export function intensityStats(values: Float32Array): IntensityStats {
  if (values.length === 0)
    return { mean: NaN, std: NaN, min: NaN, max: NaN, p005: NaN, p50: NaN, p995: NaN, samples: 0 };
  return tidy(() => {
    const t = Tensor.fromArray(values, [values.length]).to('float64');
    const sorted = sort(t, 0)[0].toArray() as Float64Array;
    return {
      mean: t.mean().item(),
      std: values.length > 1 ? t.std([], false, false).item() : 0,
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      p005: percentileSorted(sorted, 0.5),
      p50: percentileSorted(sorted, 50),
      p995: percentileSorted(sorted, 99.5),
      samples: values.length,
    };
  });
}

/** The crop the fingerprint's cropped shapes are measured with, and that new plans preprocess with. */
export const FINGERPRINT_CROP: CropRule = 'background';

export async function computeFingerprint(
  ds: Dataset,
  onCase?: (i: number, n: number, id: string) => void,
): Promise<Fingerprint> {
  const cases: CaseFingerprint[] = [];
  const samples: Float32Array[][] = ds.channelNames.map(() => []);
  for (const [i, c] of ds.training.entries()) {
    onCase?.(i, ds.training.length, c.id);
    const vols = await readCaseVolumes(c);
    const spacing = arraySpacing(vols.channels[0]!);
    const fp = tidy(() =>
      noGrad(() => {
        const image = channelsToTensor(vols.channels);
        const labels = vols.label ? labelsToTensor(vols.label, c.label) : null;
        const box = cropBox(image, FINGERPRINT_CROP).box;
        const classVoxels: Record<string, number> = {};
        const classVolumeMm3: Record<string, number> = {};
        const classComponents: Record<string, number[]> = {};
        let foregroundShape: number[] | undefined;
        const voxelMm3 = spacing.reduce((a, b) => a * b, 1);
        if (labels) {
          for (const v of ds.labelValues) {
            const n = labels.eq(v).countNonzero();
            classVoxels[String(v)] = n;
            if (v !== 0) {
              classVolumeMm3[String(v)] = n * voxelMm3;
              // tiny structures show up as many small components: the planner can see them
              const cc = labelComponents(labels.eq(v));
              classComponents[String(v)] = [...cc.sizes.subarray(1)].sort((a, b) => b - a);
            }
          }
          const fg = labels.gt(0);
          // how much context the objects need: budget plans buy no more than a multiple of it
          if (fg.countNonzero() > 0) foregroundShape = boxOf(fg).map(([a, b]) => b - a);
          ds.channelNames.forEach((_, ch) => {
            const vals = maskedSelect(image.select(0, ch), fg).toArray() as Float32Array;
            samples[ch]!.push(sampleValues(vals, SAMPLES_PER_CASE));
          });
        }
        return {
          id: c.id,
          spacing,
          shape: image.shape.slice(1),
          croppedShape: box.map(([a, b]) => b - a),
          classVoxels,
          classVolumeMm3,
          classComponents,
          ...(foregroundShape ? { foregroundShape } : {}),
        };
      }),
    );
    cases.push(fp);
  }
  const foregroundIntensity = samples.map((chunks) => {
    const all = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    return intensityStats(all);
  });
  const axis = (k: 'spacing' | 'shape' | 'croppedShape', d: number) => median(cases.map((c) => c[k][d]!));
  const withForeground = cases.flatMap((c) => (c.foregroundShape ? [c.foregroundShape] : []));
  return {
    version: 1,
    axes: 'zyx',
    dataset: ds.name,
    channelNames: ds.channelNames,
    labels: Object.fromEntries(ds.labels.map((l) => [l.name, l.values])),
    ...(ds.regionClassOrder ? { regionClassOrder: ds.regionClassOrder } : {}),
    crop: FINGERPRINT_CROP,
    cases,
    foregroundIntensity,
    medianSpacing: [0, 1, 2].map((d) => axis('spacing', d)),
    medianShape: [0, 1, 2].map((d) => axis('shape', d)),
    medianCroppedShape: [0, 1, 2].map((d) => axis('croppedShape', d)),
    ...(withForeground.length
      ? { medianForegroundShape: [0, 1, 2].map((d) => median(withForeground.map((s) => s[d]!))) }
      : {}),
  };
}

export async function writeFingerprint(dir: string, fp: Fingerprint): Promise<string> {
  const file = path.join(dir, 'fingerprint.json');
  await writeFileAtomic(file, JSON.stringify(fp, null, 2));
  return file;
}
