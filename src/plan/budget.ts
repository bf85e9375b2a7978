// Budget-aware planning: the network a run can afford in the time it has on this machine.
//
// THE RULE. nnU-Net's plan assumes a GPU and 250,000 steps; on a CPU a 40-minute run of it makes
// ~100 steps and sees each region of the training images a handful of times. A budgeted plan buys
// context first, then width, each with a floor of optimisation steps (AdamW + warm-up):
//   1. the patch: the largest at which a network of 16 base features still gets CONTEXT_STEPS,
//      and no larger than CONTEXT_CAP times the median foreground box along any axis (the
//      fingerprint's; contextCap). A small object needs little context, and every voxel of a patch
//      costs steps: on the synthetic prostate (foreground box 10x31x38 voxels in 20x160x160
//      images) at 20 minutes, 16x96x96 and 16x64x80 beat nnU-Net's whole-image patch by +0.011 and
//      +0.013 Dice on 12 unseen cases (bench/RESULTS.md, session 17); on BraTS (box 79x86x71) and
//      the hippocampus the cap does not bind.
//      Patches are tried as nnU-Net shrinks its own to fit a GPU: from that patch, the axis
//      largest relative to the median image loses ~10% (rounded to what the network's strides
//      divide) at a time, down to MIN_PATCH_FRACTION of its voxels and never below MIN_PATCH_AXIS
//      voxels along an axis. On BraTS at 10 and 40 minutes, context was worth more than steps past
//      ~500: 64x80x64 at 539 steps beat 48x64x48 at 1,225 on both held-out cases (bench/RESULTS.md,
//      "Fine patch steps" and "The step floor");
//   2. the width at that patch: the widest (32…320, 24…256, 16…128 features) that gets
//      TARGET_STEPS, else 16…128. Wider networks were never measured to pay for fewer steps, so
//      width keeps the thousand-step floor at which AdamW + warm-up converged on every dataset;
//   3. otherwise 8…64 features at the largest patch that gets CONTEXT_STEPS;
//   4. otherwise the smallest candidate, with the steps the budget gives it; and when that is less
//      than one epoch of MIN_EPOCH_STEPS steps, an error that names the minimum budget.
// Step times come from the calibration (calibrate.ts: a few small networks measured on this
// machine and precision, a linear model in the step's GFLOP predicts the rest). Depth follows the
// patch (nnU-Net's topology rules); the batch stays nnU-Net's; the precision is the calibration's.
// A budget that affords nnU-Net's plan with TARGET_STEPS gets nnU-Net's plan unchanged, unless the
// context cap binds: then no budget buys context beyond it (the cap was measured on runs of 20-40
// minutes only; nnU-Net sizes its patch by the image, not by the object).
import type { Configuration } from './planner.js';
import { planTopology, totalStride } from './topology.js';
import type { UNetSpec } from '../nn/unet.js';
import { predictStepSeconds, stepGflop, type StepTimeModel } from './budgetCost.js';
import type { TrainingDefaults } from './budgetSchema.js';

/** Steps a wider network than 16…128 must still get. */
export const TARGET_STEPS = 1000;
/** Steps a larger patch must still get (at 16 base features). */
export const CONTEXT_STEPS = 500;
export const MIN_EPOCH_STEPS = 10;
/** Share of the budget spent in steps (the rest: validation, checkpoints, loader start-up). */
export const STEP_SHARE = 0.85;
/** Smallest patch side a budget plan shrinks to (voxels), unless nnU-Net's patch is smaller. */
export const MIN_PATCH_AXIS = 32;
/**
 * Context a budget plan buys at most: this many times the median foreground box per axis
 * (configuration's foregroundShape). See contextCap.
 */
export const CONTEXT_CAP = 2.5;
/** Smallest patch a budget plan tries, as a fraction of nnU-Net's patch voxels. */
export const MIN_PATCH_FRACTION = 0.0625;
/** Each shrink takes about this share off one axis (as nnU-Net's planner shrinks its patch). */
const SHRINK = 0.9;
/** Widths tried: base features and the cap, nnU-Net's first. */
export const WIDTHS = [
  { base: 32, cap: 320 },
  { base: 24, cap: 256 },
  { base: 16, cap: 128 },
  { base: 8, cap: 64 },
];

export type { BudgetSection, TrainingDefaults } from './budgetSchema.js';

export interface Candidate {
  patch: number[];
  batch: number;
  network: UNetSpec;
  /** Fraction of nnU-Net's patch voxels asked for (the topology rounds the patch). */
  fraction: number;
  width: { base: number; cap: number };
  stepSeconds: number;
  steps: number;
}

export class BudgetTooSmallError extends Error {
  constructor(
    readonly seconds: number,
    readonly minimumSeconds: number,
    detail: string,
  ) {
    super(
      `budget ${formatSeconds(seconds)} is too small for one epoch (${MIN_EPOCH_STEPS} steps) of the smallest network ` +
        `for this dataset (${detail}): give at least --budget ${formatSeconds(minimumSeconds)}`,
    );
  }
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.ceil(s)}s`;
  const m = Math.ceil(s / 60);
  return m < 120 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

/** nnU-Net's topology for a patch (at most 6 stages in 3D, 7 in 2D). */
const topologyOf = (patch: number[], spacing: number[]) =>
  planTopology(patch, spacing, patch.length === 3 ? 6 : 7);

/** The network of a patch and width, by nnU-Net's topology rules (depth follows the patch). */
export function candidateNetwork(
  base: Configuration,
  patchWanted: number[],
  width: { base: number; cap: number },
): { patch: number[]; network: UNetSpec } {
  const dims = base.network.dims;
  const spacing = base.spacing.slice(-dims);
  const topo = topologyOf(patchWanted, spacing);
  const n = topo.strides.length;
  return {
    patch: topo.patch,
    network: {
      ...base.network,
      features: Array.from({ length: n }, (_, i) => Math.min(width.base * 2 ** i, width.cap)),
      kernelSizes: topo.kernelSizes,
      strides: topo.strides,
      encoderBlocks: Array.from(
        { length: n },
        (_, i) => base.network.encoderBlocks[i] ?? base.network.encoderBlocks.at(-1)!,
      ),
      decoderConvs: new Array<number>(n - 1).fill(base.network.decoderConvs[0] ?? 2),
    },
  };
}

const voxelsOf = (patch: readonly number[]) => patch.reduce((a, b) => a * b, 1);

/**
 * The largest patch a budget plan tries: nnU-Net's, each axis held to CONTEXT_CAP times the
 * median foreground box (never below MIN_PATCH_AXIS), rounded to what the network strides; null
 * where that does not bind (or the plan does not know its foreground's extent).
 */
export function contextCap(base: Configuration): number[] | null {
  const nd = base.patch.length;
  const fg = base.foregroundShape?.slice(-nd);
  if (!fg) return null;
  const wanted = base.patch.map((p, d) =>
    Math.min(p, Math.max(MIN_PATCH_AXIS, Math.ceil(CONTEXT_CAP * fg[d]!))),
  );
  if (wanted.every((w, d) => w === base.patch[d])) return null;
  const fitted = topologyOf(wanted, base.spacing.slice(-nd)).patch;
  return fitted.some((f, d) => f > base.patch[d]!) || voxelsOf(fitted) >= voxelsOf(base.patch)
    ? null
    : fitted;
}

/**
 * The patches a budget plan tries, largest first: nnU-Net's own (or its context cap), then
 * repeatedly the axis largest relative to the median image shrunk by ~10% to a multiple of what the
 * network strides along it.
 */
export function patchSequence(base: Configuration): number[][] {
  const nd = base.patch.length;
  const spacing = base.spacing.slice(-nd);
  const median = base.medianShape.slice(-nd);
  const floor = base.patch.map((p) => Math.min(p, MIN_PATCH_AXIS));
  const minVoxels = MIN_PATCH_FRACTION * voxelsOf(base.patch);
  const start = contextCap(base) ?? base.patch;
  const out = [start];
  let patch = [...start];
  for (let guard = 0; guard < 1000; guard++) {
    const shrinkable = patch.map((p, d) => p > floor[d]!);
    if (!shrinkable.some(Boolean)) break;
    const rel = patch.map((p, d) => (shrinkable[d] ? p / Math.max(1, median[d]!) : -1));
    const d = rel.indexOf(Math.max(...rel));
    const unit = totalStride(topologyOf(patch, spacing).strides, nd)[d]!;
    const next = Math.max(floor[d]!, Math.min(patch[d]! - 1, Math.floor((patch[d]! * SHRINK) / unit) * unit));
    patch = patch.map((p, i) => (i === d ? next : p));
    // the network's topology rounds the patch to its strides; keep only patches it does not grow back
    const fitted = topologyOf(patch, spacing).patch;
    if (voxelsOf(fitted) < minVoxels) break;
    if (voxelsOf(fitted) < voxelsOf(out.at(-1)!)) out.push(fitted);
  }
  return out;
}

/** Every candidate: patches × widths, each with its predicted step time and steps. */
export function budgetCandidates(base: Configuration, model: StepTimeModel, seconds: number): Candidate[] {
  const out: Candidate[] = [];
  const baseVoxels = voxelsOf(base.patch);
  for (const wanted of patchSequence(base)) {
    const fraction = voxelsOf(wanted) / baseVoxels;
    for (const width of WIDTHS) {
      const isBase = fraction === 1 && width.base === base.network.features[0];
      const { patch, network } = isBase
        ? { patch: base.patch, network: base.network }
        : candidateNetwork(base, wanted, width);
      const stepSeconds = predictStepSeconds(model, stepGflop(network, patch, base.batchSize));
      out.push({
        patch,
        batch: base.batchSize,
        network,
        fraction,
        width,
        stepSeconds,
        steps: Math.floor((seconds * STEP_SHARE) / stepSeconds),
      });
    }
  }
  return out;
}

/** The rule (see the top of this file): which candidate, and in words why. */
export function chooseCandidate(
  candidates: Candidate[],
  seconds: number,
): { chosen: Candidate; rule: string } {
  const reaches = (floor: number) => (c: Candidate) => c.steps >= floor;
  // candidates come patch-major, widest first
  const patchOf = candidates.find((c) => c.width.base === 16 && reaches(CONTEXT_STEPS)(c));
  if (patchOf) {
    const atPatch = candidates.filter((c) => c.patch.join() === patchOf.patch.join() && c.width.base >= 16);
    const wide = atPatch.find(reaches(TARGET_STEPS));
    return {
      chosen: wide ?? patchOf,
      rule:
        `the largest patch at which 16 base features get ≥ ${CONTEXT_STEPS} steps, ` +
        (wide
          ? `the widest network there with ≥ ${TARGET_STEPS} steps`
          : `no wider network there gets ${TARGET_STEPS}`),
    };
  }
  const narrow = candidates.find(reaches(CONTEXT_STEPS));
  if (narrow) {
    return {
      chosen: narrow,
      rule: `no network of ≥ 16 base features gets ${CONTEXT_STEPS} steps: 8 base features at the largest patch that does`,
    };
  }
  const smallest = candidates.reduce((a, b) => (b.stepSeconds < a.stepSeconds ? b : a));
  const minimum = (MIN_EPOCH_STEPS * smallest.stepSeconds) / STEP_SHARE;
  if (smallest.steps < MIN_EPOCH_STEPS) {
    throw new BudgetTooSmallError(
      seconds,
      minimum,
      `patch ${smallest.patch.join('x')}, features ${smallest.network.features[0]}…${smallest.network.features.at(-1)}, ` +
        `${smallest.stepSeconds.toFixed(2)} s/step`,
    );
  }
  return {
    chosen: smallest,
    rule: `no candidate gets ${CONTEXT_STEPS} steps: the smallest network, with the steps the budget allows`,
  };
}

/** Short-run optimisation (bench/RESULTS.md): AdamW 3e-3 with warm-up below 20,000 steps, else nnU-Net's SGD. */
export function trainingFor(steps: number, bf16: boolean): TrainingDefaults {
  const itersPerEpoch = Math.max(MIN_EPOCH_STEPS, Math.min(250, Math.round(steps / 25)));
  const epochs = Math.max(1, Math.floor(steps / itersPerEpoch));
  const adamw = steps < 20000;
  return {
    optimizer: adamw ? 'adamw' : 'sgd',
    initialLr: adamw ? 3e-3 : 1e-2,
    warmupSteps: adamw ? Math.min(200, Math.round(0.05 * epochs * itersPerEpoch)) : 0,
    bf16,
    epochs,
    itersPerEpoch,
  };
}

export interface BudgetPlanInput {
  /** nnU-Net's configuration (planDataset's): its spacing, patch, batch and network are the start. */
  base: Configuration;
  seconds: number;
  model: StepTimeModel;
  precision: 'bf16' | 'fp32';
  /** Digest of the calibration the model comes from. */
  calibration: string;
}

/** The configuration fitted to the budget, with its `budget` and `training` sections. */
export function planForBudget(i: BudgetPlanInput): Configuration {
  if (!(i.seconds > 0)) throw new Error(`budget must be a positive number of seconds, got ${i.seconds}`);
  const candidates = budgetCandidates(i.base, i.model, i.seconds);
  const { chosen, rule } = chooseCandidate(candidates, i.seconds);
  const training = trainingFor(chosen.steps, i.precision === 'bf16');
  const steps = training.epochs * training.itersPerEpoch;
  const f = chosen.network.features;
  const unchanged = chosen.network === i.base.network;
  const cap = contextCap(i.base);
  const capped = cap
    ? ` (context held to ${CONTEXT_CAP}× the median foreground box, ${i.base.foregroundShape!.join('x')} voxels: at most ${cap.join('x')})`
    : '';
  const why =
    `${formatSeconds(i.seconds)} budget, ${Math.round(STEP_SHARE * 100)}% of it in steps; ${rule}${capped}: ` +
    (unchanged
      ? `nnU-Net's plan itself (patch ${chosen.patch.join('x')}, features ${f[0]}…${f.at(-1)})`
      : `patch ${chosen.patch.join('x')} (${Math.round(chosen.fraction * 100)}% of nnU-Net's ${i.base.patch.join('x')} voxels), ` +
        `features ${f[0]}…${f.at(-1)} in ${f.length} stages (nnU-Net: ${i.base.network.features[0]}…${i.base.network.features.at(-1)})`) +
    `, batch ${chosen.batch}, ${i.precision}: ${chosen.stepSeconds.toFixed(2)} s/step predicted → ${steps} steps ` +
    `(${training.epochs} epochs × ${training.itersPerEpoch}), ${training.optimizer === 'adamw' ? `AdamW ${training.initialLr} with ${training.warmupSteps} warm-up steps` : "nnU-Net's SGD"}`;
  return {
    ...i.base,
    patch: chosen.patch,
    batchSize: chosen.batch,
    network: chosen.network,
    budget: {
      seconds: i.seconds,
      stepSeconds: Number(chosen.stepSeconds.toFixed(4)),
      steps,
      why,
      precision: i.precision,
      calibration: i.calibration,
    },
    training,
  };
}
