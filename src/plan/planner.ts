// The planner: fingerprint → plans.json. Everything downstream (preprocessing, the network,
// training, inference) reads the plans, so a user can read and edit every decision there.
import { writeFileAtomic } from '../io/atomic.js';
import path from 'node:path';
import os from 'node:os';
import type { Fingerprint } from './fingerprint.js';
import type { Plans, Region } from './schema.js';
import { planTopology } from './topology.js';
import { percentile } from '../common/stats.js';
import type { UNetSpec } from '../nn/unet.js';
import type { NormalizationPlan } from './normalization.js';
import { LEGACY_CROP } from '../common/background.js';

// The types of plans.json are inferred from its schema (schema.ts), which checks every file read.
export {
  CONFIGURATION_NAMES,
  type ConfigurationName,
  type CascadeStage,
  type Configuration,
  type Plans,
} from './schema.js';

export interface PlanOptions {
  /** Memory budget for one training step, GB (default: a third of this machine's RAM, at most 24). */
  memoryGb?: number;
  /** Upper bound on the patch voxel count (keeps CPU steps affordable). */
  maxPatchVoxels?: number;
  /** Network family for every configuration (default plain, nnU-Net's PlainConvUNet). */
  architecture?: 'plain' | 'residual';
  /** Squeeze-and-excitation in the residual blocks. */
  squeezeExcitation?: boolean;
}

const percentileOf = (xs: number[], q: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    q,
  );

/** nnU-Net's target spacing: the median; for anisotropic data the coarse axis from the 10th percentile. */
export function targetSpacing(fp: Fingerprint): number[] {
  const target = [...fp.medianSpacing];
  const shape = fp.medianCroppedShape;
  const worst = target.indexOf(Math.max(...target));
  const others = target.filter((_, d) => d !== worst);
  const anisotropic = target[worst]! > 3 * Math.max(...others);
  const fewSlices = shape[worst]! * 3 < Math.min(...shape.filter((_, d) => d !== worst));
  if (anisotropic && fewSlices) {
    const p10 = percentileOf(
      fp.cases.map((c) => c.spacing[worst]!),
      10,
    );
    // never finer than the in-plane spacing
    target[worst] = Math.max(p10, Math.max(...others) + 1e-5);
  }
  return target;
}

/** Activation memory of one training sample (float32 + gradients, conv/norm/act per stage), bytes. */
export function trainingBytesPerSample(
  patch: number[],
  features: number[],
  strides: number[][],
  inChannels: number,
): number {
  let voxels = patch.reduce((a, b) => a * b, 1);
  let bytes = voxels * inChannels * 4;
  features.forEach((f, s) => {
    if (s > 0) voxels /= strides[s]!.reduce((a, b) => a * b, 1);
    // encoder: 2 blocks × (conv out + norm/act out) ; decoder: same plus the concatenation;
    // ×2 for the gradients that exist at the same time in backward.
    const perVoxel = f * (2 * 2 + (s < features.length - 1 ? 2 * 2 + 2 : 0));
    bytes += voxels * perVoxel * 4 * 2;
  });
  return bytes;
}

function defaultMemoryGb(): number {
  return Math.min(24, Math.max(2, os.totalmem() / 2 ** 30 / 3));
}

function makeNetwork(
  patch: number[],
  spacing: number[],
  inChannels: number,
  numClasses: number,
  dims: 2 | 3,
): { spec: UNetSpec; patch: number[] } {
  const topo = planTopology(patch, spacing, dims === 3 ? 6 : 7);
  const n = topo.strides.length;
  const cap = dims === 3 ? 320 : 512;
  return {
    patch: topo.patch,
    spec: {
      architecture: 'plain',
      dims,
      inputChannels: inChannels,
      numClasses,
      features: Array.from({ length: n }, (_, i) => Math.min(32 * 2 ** i, cap)),
      kernelSizes: topo.kernelSizes,
      strides: topo.strides,
      encoderBlocks: new Array<number>(n).fill(2),
      decoderConvs: new Array<number>(n - 1).fill(2),
      deepSupervision: true,
    },
  };
}

/** Patch ∝ 1/spacing (isotropic in mm), shrunk along its largest-relative axis until it fits. */
function choosePatch(
  medianShape: number[],
  spacing: number[],
  inChannels: number,
  numClasses: number,
  budget: number,
  maxVoxels: number,
  dims: 2 | 3,
): { patch: number[]; spec: UNetSpec; batch: number } {
  const nd = dims;
  const sp = spacing.slice(-nd);
  const med = medianShape.slice(-nd);
  // start: 256 mm-equivalent voxels along the finest axis, clipped to the median image
  const minSp = Math.min(...sp);
  let patch = sp.map((s, d) => Math.min(Math.round((256 * minSp) / s), med[d]!));
  for (let guard = 0; guard < 200; guard++) {
    const { spec, patch: fitted } = makeNetwork(patch, sp, inChannels, numClasses, dims);
    const voxels = fitted.reduce((a, b) => a * b, 1);
    const perSample = trainingBytesPerSample(fitted, spec.features, spec.strides, inChannels);
    if ((perSample * 2 <= budget && voxels <= maxVoxels) || patch.every((p) => p <= 8)) {
      const batch = Math.max(2, Math.min(Math.floor(budget / perSample), dims === 3 ? 2 : 32));
      return { patch: fitted, spec, batch };
    }
    // shrink the axis that is largest relative to the median image
    const rel = patch.map((p, d) => p / med[d]!);
    const d = rel.indexOf(Math.max(...rel));
    patch = patch.map((p, i) => (i === d ? Math.max(8, Math.floor(p * 0.9)) : p));
  }
  throw new Error('planner: could not fit a patch into the memory budget');
}

/**
 * Region-based training where the dataset declares regions (nnU-Net's rule: dataset.json's
 * regions_class_order), one region per non-background label in its order.
 */
function regionsOf(fp: Fingerprint): Region[] | undefined {
  const order = fp.regionClassOrder;
  if (!order) return undefined;
  const named = Object.entries(fp.labels).filter(([, v]) => !(v.length === 1 && v[0] === 0));
  if (named.length !== order.length)
    throw new Error(
      `fingerprint: regionClassOrder has ${order.length} entries for ${named.length} non-background labels`,
    );
  return named.map(([name, labels], i) => ({ name, labels, writeAs: order[i]! }));
}

/** The fingerprint's median foreground extent at a target spacing, as a configuration's field. */
function foregroundAt(fp: Fingerprint, spacing: number[]): { foregroundShape?: number[] } {
  const fg = fp.medianForegroundShape;
  if (!fg) return {};
  return {
    foregroundShape: fg.map((s, d) => Math.max(1, Math.round((s * fp.medianSpacing[d]!) / spacing[d]!))),
  };
}

export function planDataset(fp: Fingerprint, o: PlanOptions = {}): Plans {
  const memoryGb = o.memoryGb ?? defaultMemoryGb();
  const budget = memoryGb * 2 ** 30;
  const maxVoxels = o.maxPatchVoxels ?? 128 ** 3;
  const inChannels = fp.channelNames.length;
  const labelValues = [...new Set(Object.values(fp.labels).flat())].sort((a, b) => a - b);
  const regions = regionsOf(fp);
  const numClasses = regions?.length ?? labelValues.length;
  const spacing = targetSpacing(fp);
  const medianShape = fp.medianCroppedShape.map((s, d) =>
    Math.round((s * fp.medianSpacing[d]!) / spacing[d]!),
  );
  const foreground = foregroundAt(fp, spacing);
  const normalization: NormalizationPlan[] = fp.channelNames.map((name, c) => {
    if (name.toUpperCase() === 'CT') {
      const s = fp.foregroundIntensity[c]!;
      return { scheme: 'ct', ct: { mean: s.mean, std: s.std, p005: s.p005, p995: s.p995 } };
    }
    return { scheme: 'zscore' };
  });
  const base = {
    normalization,
    // preprocess as the fingerprint measured the cropped shapes the plan is sized on
    crop: fp.crop ?? LEGACY_CROP,
    imageInterpolation: 'linear' as const,
    labelInterpolation: 'linear' as const,
  };
  const full = choosePatch(medianShape, spacing, inChannels, numClasses, budget, maxVoxels, 3);
  const withArchitecture = (spec: UNetSpec): UNetSpec =>
    o.architecture === 'residual' || o.squeezeExcitation
      ? {
          ...spec,
          architecture: 'residual',
          // nnU-Net's residual encoder presets: 1, 3, 4, 6, 6, ... blocks per stage
          encoderBlocks: spec.encoderBlocks.map((_, i) => [1, 3, 4, 6][i] ?? 6),
          squeezeExcitation: !!o.squeezeExcitation,
        }
      : spec;
  full.spec = withArchitecture(full.spec);
  const configurations: Plans['configurations'] = {
    '3d_fullres': {
      name: '3d_fullres',
      spacing,
      medianShape,
      ...foreground,
      patch: full.patch,
      batchSize: full.batch,
      network: full.spec,
      batchDice: true,
      ...base,
    },
  };
  const twoD = choosePatch(medianShape, spacing, inChannels, numClasses, budget, 512 ** 2, 2);
  twoD.spec = withArchitecture(twoD.spec);
  configurations['2d'] = {
    name: '2d',
    spacing,
    medianShape,
    ...foreground,
    patch: twoD.patch,
    batchSize: twoD.batch,
    network: twoD.spec,
    batchDice: false,
    ...base,
  };
  // A low-resolution stage when the full-resolution patch covers < 25% of the median image.
  const coverage = full.patch.reduce((a, b) => a * b, 1) / medianShape.reduce((a, b) => a * b, 1);
  let lowresReason = `the 3d_fullres patch covers ${(100 * Math.min(1, coverage)).toFixed(0)}% of the median image`;
  if (coverage < 0.25) {
    let lowSpacing = [...spacing];
    let lowShape = medianShape;
    for (let i = 0; i < 200; i++) {
      lowSpacing = lowSpacing.map((s) => s * 1.03);
      lowShape = fp.medianCroppedShape.map((s, d) => Math.round((s * fp.medianSpacing[d]!) / lowSpacing[d]!));
      const p = choosePatch(lowShape, lowSpacing, inChannels, numClasses, budget, maxVoxels, 3);
      if (p.patch.reduce((a, b) => a * b, 1) >= 0.25 * lowShape.reduce((a, b) => a * b, 1)) {
        configurations['3d_lowres'] = {
          name: '3d_lowres',
          spacing: lowSpacing,
          medianShape: lowShape,
          ...foregroundAt(fp, lowSpacing),
          patch: p.patch,
          batchSize: p.batch,
          network: withArchitecture(p.spec),
          batchDice: true,
          ...base,
        };
        break;
      }
    }
    const low = configurations['3d_lowres'];
    if (low && !regions) {
      const fullres = configurations['3d_fullres']!;
      configurations['3d_cascade_prior'] = {
        ...fullres,
        name: '3d_cascade_prior',
        network: { ...fullres.network, inputChannels: inChannels + numClasses - 1 },
        cascade: { previousStage: '3d_lowres', variant: 'prior', marginMm: 0 },
      };
      configurations['3d_cascade_crop'] = {
        ...fullres,
        name: '3d_cascade_crop',
        cascade: { previousStage: '3d_lowres', variant: 'crop', marginMm: 10 },
      };
    }
    lowresReason += low
      ? ' (< 25%): 3d_lowres and the cascade (3d_cascade_prior, 3d_cascade_crop) planned'
      : ' (< 25%) but no low resolution fits';
    if (low && regions)
      lowresReason +=
        "; no cascade: its stage 2 takes stage 1's classes, and region-based plans predict regions";
  } else lowresReason += ' (≥ 25%): no 3d_lowres needed';
  return {
    version: 1,
    dataset: fp.dataset,
    axes: 'zyx',
    channelNames: fp.channelNames,
    labelValues,
    ...(regions ? { regions } : {}),
    memoryGb,
    configurations,
    lowresReason,
  };
}

export async function writePlans(dir: string, plans: Plans): Promise<string> {
  const file = path.join(dir, 'plans.json');
  await writeFileAtomic(file, JSON.stringify(plans, null, 2));
  return file;
}
