// The schemas of plans.json (meant to be edited by hand) and fingerprint.json (read back by
// training): every file is checked when read, and a wrong field is refused with one line naming the
// file, the field's path and what was expected. The TypeScript types of the planner (Plans,
// Configuration, ...) are inferred from these schemas, so the checks and the types cannot drift.
import { z } from 'zod';
import { readJsonFile, validate } from '../io/jsonFile.js';
import type { UNetSpec } from '../nn/unet.js';
import type { NormalizationPlan } from './normalization.js';
import { totalStride } from './topology.js';
import { budgetSectionSchema, trainingDefaultsSchema } from './budgetSchema.js';
import {
  inRange,
  mustBe,
  type Range,
  AUGMENTATION_RANGE,
  LOSS_WEIGHT_RANGE,
  OVERSAMPLING_RANGE,
} from '../common/ranges.js';

/** Every configuration name, in the order find-best lists them. */
export const CONFIGURATION_NAMES = [
  '2d',
  '3d_fullres',
  '3d_lowres',
  '3d_cascade_prior',
  '3d_cascade_crop',
] as const;

export const configurationNameSchema = z.enum(CONFIGURATION_NAMES);
export type ConfigurationName = z.infer<typeof configurationNameSchema>;

const positiveInt = z.int().positive();
/** A number inside one of the ranges the CLI and the library share (the same words in the error). */
const ranged = (r: Range) => z.number().refine((v) => inRange(v, r, false), mustBe(r, false));
const positiveNumber = z.number().positive();
/** (z, y, x) */
const triple = <T extends z.ZodType>(t: T) => z.array(t).length(3);

// The network spec belongs to nn/ (UNetSpec); fields added there later pass through (looseObject)
// rather than being dropped or refused, the consistency of the stages is checked here.
export const networkSchema: z.ZodType<UNetSpec> = z
  .looseObject({
    architecture: z.enum(['plain', 'residual']),
    dims: z.literal([2, 3]),
    inputChannels: positiveInt,
    numClasses: positiveInt,
    features: z.array(positiveInt).min(2),
    kernelSizes: z.array(z.array(positiveInt)),
    strides: z.array(z.array(positiveInt)),
    encoderBlocks: z.array(positiveInt),
    decoderConvs: z.array(positiveInt),
    deepSupervision: z.boolean(),
    norm: z.enum(['instance', 'batch', 'group', 'none']).optional(),
    squeezeExcitation: z.boolean().optional(),
    slope: z.number().min(0).optional(),
  })
  .superRefine((s, ctx) => {
    const n = s.features.length;
    for (const [key, len] of [
      ['kernelSizes', n],
      ['strides', n],
      ['encoderBlocks', n],
      ['decoderConvs', n - 1],
    ] as const) {
      if (s[key].length !== len)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `expected ${len} entries (${key === 'decoderConvs' ? 'one per stage but the deepest' : 'one per stage'}: features has ${n}), got ${s[key].length}`,
        });
    }
    for (const key of ['kernelSizes', 'strides'] as const)
      s[key].forEach((k, i) => {
        if (k.length !== s.dims)
          ctx.addIssue({
            code: 'custom',
            path: [key, i],
            message: `expected ${s.dims} entries (dims is ${s.dims}), got ${k.length}`,
          });
      });
  });

export const cropRuleSchema = z.enum(['nonzero', 'background']);

export const normalizationSchema: z.ZodType<NormalizationPlan> = z
  .strictObject({
    scheme: z.enum(['ct', 'zscore', 'rescale', 'none']),
    ct: z
      .strictObject({ mean: z.number(), std: z.number().min(0), p005: z.number(), p995: z.number() })
      .optional(),
    useMask: z.boolean().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.scheme === 'ct' && !p.ct)
      ctx.addIssue({
        code: 'custom',
        path: ['ct'],
        message: 'missing (scheme "ct" needs the foreground statistics mean, std, p005, p995)',
      });
  });

export const cascadeStageSchema = z.strictObject({
  previousStage: configurationNameSchema,
  variant: z.enum(['prior', 'crop']),
  marginMm: z.number().min(0),
});
/**
 * Stage 2 of the two-stage cascade (stage 1 is `previousStage`, 3d_lowres). `prior`: stage 1's
 * one-hot prediction (foreground classes) enters the network as extra input channels after the
 * image channels. `crop`: stage 2 segments boxes around stage 1's connected components (each grown
 * by `marginMm` and to at least one patch), pasted back into the full volume.
 */
export type CascadeStage = z.infer<typeof cascadeStageSchema>;

export const configurationSchema = z
  .strictObject({
    name: configurationNameSchema,
    /** Target spacing in array order (z, y, x) mm; for 2d the first entry is the slice spacing (kept). */
    spacing: triple(positiveNumber),
    /** Median image shape at this spacing (z, y, x). */
    medianShape: triple(positiveInt),
    /**
     * Median extent of the foreground's bounding box at this spacing (z, y, x; fingerprint's
     * medianForegroundShape): a budget plan buys no more context than a multiple of it (budget.ts).
     * Absent in plans written before it and for datasets without foreground.
     */
    foregroundShape: triple(positiveInt).optional(),
    patch: z.array(positiveInt).min(2).max(3),
    batchSize: positiveInt,
    network: networkSchema,
    normalization: z.array(normalizationSchema).min(1),
    /**
     * What preprocessing crops to first: `nonzero` (nnU-Net's) or `background` (what differs from a
     * constant border value; common/background.ts). Absent in plans written before it: nonzero.
     */
    crop: cropRuleSchema.optional(),
    imageInterpolation: z.enum(['linear', 'cubic']),
    labelInterpolation: z.enum(['nearest', 'linear']),
    /** Set on the cascade's second stage. */
    cascade: cascadeStageSchema.optional(),
    /** Set when the configuration was fitted to a time budget (`plan --budget`; budget.ts). */
    budget: budgetSectionSchema.optional(),
    /** A budgeted plan's training defaults (optimiser, schedule, precision, epochs); train's options override. */
    training: trainingDefaultsSchema.optional(),
    /**
     * Soft Dice over the whole batch instead of per sample (nnU-Net: true for the 3D configurations,
     * false for 2d, whose batch mixes slices of many cases). Absent in plans written before it: false.
     */
    batchDice: z.boolean().optional(),
    /**
     * The loss: diceWeight · (1 − soft Dice) + ceWeight · CE (nnU-Net: 1 and 1; absent: 1 and 1).
     * Search trials that vary them write them here; train's --dice-weight / --ce-weight override.
     */
    lossWeights: z
      .strictObject({ dice: ranged(LOSS_WEIGHT_RANGE), ce: ranged(LOSS_WEIGHT_RANGE) })
      .refine((w) => w.dice > 0 || w.ce > 0, 'dice and ce are both 0: the loss would be 0 and nothing trains')
      .optional(),
    /** Share of each batch forced to contain foreground (nnU-Net's oversample_foreground_percent;
     * absent: 0.33). */
    foregroundOversampling: ranged(OVERSAMPLING_RANGE).optional(),
    /** Augmentation strength: 1 (absent) the standard augmentation, 0 none; it multiplies every
     * transform's probability (src/train/augment.ts). */
    augmentationStrength: ranged(AUGMENTATION_RANGE).optional(),
  })
  .superRefine((c, ctx) => {
    const net = c.network;
    if (c.patch.length !== net.dims) {
      ctx.addIssue({
        code: 'custom',
        path: ['patch'],
        message: `expected ${net.dims} entries (network.dims is ${net.dims}), got ${c.patch.length}`,
      });
      return;
    }
    // the U-Net halves the patch at every stride: each axis must divide by the product of strides
    if (net.strides.some((s) => s.length !== net.dims)) return;
    const divisor = totalStride(net.strides, c.patch.length);
    if (c.patch.some((p, d) => p % divisor[d]! !== 0))
      ctx.addIssue({
        code: 'custom',
        path: ['patch'],
        message: `expected multiples of ${divisor.join(',')} (the product of network.strides per axis), got ${c.patch.join(',')}`,
      });
  });
export type Configuration = z.infer<typeof configurationSchema>;

const regionSchema = z.strictObject({
  name: z.string(),
  labels: z.array(z.int().positive()).min(1),
  writeAs: z.int().positive(),
});
export type Region = z.infer<typeof regionSchema>;

export const plansSchema = z
  .strictObject({
    version: z.literal(1),
    dataset: z.string(),
    axes: z.literal('zyx'),
    channelNames: z.array(z.string()).min(1),
    /** Label value of each training class index (index = position). */
    labelValues: z.array(z.int().min(0)).min(1),
    /**
     * Region-based training (nnU-Net's, for nested labels such as BraTS's whole tumour ⊃ core ⊃
     * enhancing): one sigmoid output per region, trained on the union of its labels with BCE + Dice.
     * A prediction writes `writeAs` where a region is found, in this order (later over earlier).
     */
    regions: z.array(regionSchema).min(1).optional(),
    memoryGb: positiveNumber,
    // unknown names first, so the error names the configuration and lists the known ones
    configurations: z
      .record(z.string(), z.unknown())
      .superRefine((r, ctx) => {
        for (const key of Object.keys(r))
          if (!configurationNameSchema.safeParse(key).success)
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `unknown configuration (expected one of ${CONFIGURATION_NAMES.join(', ')})`,
              continue: false,
            });
      })
      .pipe(z.partialRecord(configurationNameSchema, configurationSchema)),
    /** Why 3d_lowres exists or not. */
    lowresReason: z.string(),
  })
  .superRefine((p, ctx) => {
    const C = p.channelNames.length;
    const K = p.labelValues.length;
    if (new Set(p.labelValues).size !== K || p.labelValues[0] !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['labelValues'],
        message: `expected distinct label values starting with background 0, got ${JSON.stringify(p.labelValues)}`,
      });
    for (const m of regionProblems(p.regions ?? [], p.labelValues))
      ctx.addIssue({ code: 'custom', path: ['regions', m.index], message: m.message });
    // the network's outputs: one per region, or one per class (background included)
    const outputs = p.regions?.length ?? K;
    for (const [key, c] of Object.entries(p.configurations)) {
      const at = (...rest: PropertyKey[]) => ['configurations', key, ...rest];
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (c.name !== key) issue(at('name'), `expected "${key}" (the configuration's key), got "${c.name}"`);
      if (c.normalization.length !== C)
        issue(
          at('normalization'),
          `expected ${C} entries (one per channel of channelNames), got ${c.normalization.length}`,
        );
      const inputs = C + (c.cascade?.variant === 'prior' ? K - 1 : 0);
      if (c.network.inputChannels !== inputs)
        issue(
          at('network', 'inputChannels'),
          `expected ${inputs} (${C} channel(s)${inputs > C ? ` + ${K - 1} stage-1 classes` : ''}), got ${c.network.inputChannels}`,
        );
      if (c.network.numClasses !== outputs)
        issue(
          at('network', 'numClasses'),
          `expected ${outputs} (one per ${p.regions ? 'region' : 'labelValues entry'}), got ${c.network.numClasses}`,
        );
      if (p.regions && c.cascade)
        issue(at('cascade'), 'region-based plans have no cascade (stage 1 gives regions, not classes)');
      if (c.cascade && !p.configurations[c.cascade.previousStage])
        issue(
          at('cascade', 'previousStage'),
          `"${c.cascade.previousStage}" is not a configuration of these plans`,
        );
    }
  });
export type Plans = z.infer<typeof plansSchema>;

export const intensityStatsSchema = z.object({
  mean: z.number(),
  std: z.number(),
  min: z.number(),
  max: z.number(),
  p005: z.number(),
  p50: z.number(),
  p995: z.number(),
  samples: z.int().min(0),
});
export type IntensityStats = z.infer<typeof intensityStatsSchema>;

export const caseFingerprintSchema = z.object({
  id: z.string(),
  spacing: triple(positiveNumber),
  shape: triple(positiveInt),
  croppedShape: triple(z.int().min(0)),
  /** Voxels of each label value (background included). */
  classVoxels: z.record(z.string(), z.int().min(0)),
  /** mm³ of each foreground label value. */
  classVolumeMm3: z.record(z.string(), z.number().min(0)),
  /** Per foreground label value: voxel counts of its 26-connected components, largest first. */
  classComponents: z.record(z.string(), z.array(positiveInt)),
  /**
   * Extent (z, y, x voxels) of the bounding box of the case's foreground (every label > 0); absent
   * where the case has no foreground, and in fingerprints written before it.
   */
  foregroundShape: triple(positiveInt).optional(),
});
export type CaseFingerprint = z.infer<typeof caseFingerprintSchema>;

// Statistics of a dataset without foreground are NaN, which JSON writes as null: read back as NaN.
const statOrNaN = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);

export const fingerprintSchema = z.object({
  version: z.literal(1),
  axes: z.literal('zyx'),
  dataset: z.string(),
  channelNames: z.array(z.string()).min(1),
  labels: z.record(z.string(), z.array(z.int().min(0))),
  /** dataset.json's regions_class_order: set for region labels (every non-background label, in order). */
  regionClassOrder: z.array(z.int().positive()).optional(),
  /** The crop rule of the cases' croppedShape (common/background.ts); absent in older fingerprints: nonzero. */
  crop: cropRuleSchema.optional(),
  cases: z.array(caseFingerprintSchema).min(1),
  /** Per channel, over foreground voxels of all cases. */
  foregroundIntensity: z.array(
    intensityStatsSchema.extend({
      mean: statOrNaN,
      std: statOrNaN,
      min: statOrNaN,
      max: statOrNaN,
      p005: statOrNaN,
      p50: statOrNaN,
      p995: statOrNaN,
    }),
  ),
  medianSpacing: triple(positiveNumber),
  // medians of an even number of cases may fall between two integers
  medianShape: triple(positiveNumber),
  medianCroppedShape: triple(z.number().min(0)),
  /** Per axis, the median of the cases' foregroundShape (voxels); absent where no case has foreground. */
  medianForegroundShape: triple(positiveNumber).optional(),
});
export type Fingerprint = z.infer<typeof fingerprintSchema>;

/**
 * What makes regions unusable: labels that are not in labelValues, and a `writeAs` that would not read
 * back as its region (it must be one of the region's labels and none of a later region's, which is
 * written over it).
 */
export function regionProblems(
  regions: Region[],
  labelValues: number[],
): { index: number; message: string }[] {
  const out: { index: number; message: string }[] = [];
  regions.forEach((r, i) => {
    const unknown = r.labels.filter((v) => !labelValues.includes(v));
    if (unknown.length)
      out.push({ index: i, message: `"${r.name}": labels ${unknown.join(', ')} are not in labelValues` });
    if (!r.labels.includes(r.writeAs))
      out.push({
        index: i,
        message: `"${r.name}": writeAs ${r.writeAs} must be one of its labels ${r.labels.join(', ')}`,
      });
    const later = regions.slice(i + 1).find((q) => q.labels.includes(r.writeAs));
    if (later)
      out.push({
        index: i,
        message: `"${r.name}": writeAs ${r.writeAs} is also in the later region "${later.name}", which would read it back`,
      });
  });
  return out;
}

/** plans.json, checked: one error naming the file, the field and what was expected. */
export const readPlans = (file: string): Promise<Plans> => readJsonFile(file, plansSchema);

/** Checks plans already in memory (e.g. edited by a program) the same way; `file` names them in errors. */
export const validatePlans = (plans: unknown, file = 'plans'): Plans => validate(file, plansSchema, plans);

/** fingerprint.json, checked. */
export const readFingerprint = (file: string): Promise<Fingerprint> => readJsonFile(file, fingerprintSchema);
