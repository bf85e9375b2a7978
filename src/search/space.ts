// The search space: a JSON object naming each searched option with its distribution,
//
//   { "lr":        { "type": "float", "low": 1e-4, "high": 0.1, "log": true },
//     "optimizer": { "type": "choice", "values": ["sgd", "adamw"] },
//     "width":     { "type": "int", "low": 8, "high": 32, "log": true } }
//
// validated before any trial runs (zod): an option medseg does not know, a value outside what the
// option accepts or an empty range is one error naming the option. TRAIN_OPTIONS lists what a
// trial can vary; DEFAULT_SPACE (used without --space) covers the options that matter most for a
// U-Net trained from scratch: learning rate, optimiser, width, depth and patch scale.
//
// The recipe's knobs (diceWeight, ceWeight, oversampling, augmentation; src/train/recipe.ts) are
// searchable but stay out of the default space: nnU-Net keeps its 1, 1, 0.33 and standard
// augmentation on every dataset, TPE needs trials for every dimension it models (10 random ones
// first), and nothing here measured them to matter as much as the five above. For a short budget,
// augmentation 0…1 is the likeliest to (its regularisation has few steps to pay off in): a guess,
// not a measurement.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AUGMENTATION_RANGE, LOSS_WEIGHT_RANGE, OVERSAMPLING_RANGE } from '../common/ranges.js';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export type Distribution =
  | { type: 'float'; low: number; high: number; log?: boolean }
  | { type: 'int'; low: number; high: number; log?: boolean }
  | { type: 'choice'; values: ParamValue[] };

export type Space = Record<string, Distribution>;

/** What one searchable option accepts (the distribution's type and bounds). */
interface OptionRule {
  kind: 'float' | 'int' | 'choice';
  /** Inclusive bounds every range of this option must stay within. */
  min?: number;
  max?: number;
  /** The values a choice option may take. */
  values?: readonly ParamValue[];
  doc: string;
}

/** Every option a trial of `medseg search` can vary (see trialPlan.ts for how each is applied). */
export const TRAIN_OPTIONS: Readonly<Record<string, OptionRule>> = {
  lr: { kind: 'float', min: 1e-7, max: 10, doc: 'initial learning rate (poly schedule)' },
  optimizer: { kind: 'choice', values: ['sgd', 'adamw'], doc: 'SGD (Nesterov 0.99) or AdamW' },
  batch: { kind: 'int', min: 1, max: 64, doc: 'batch size (the plan’s batchSize)' },
  patchScale: {
    kind: 'float',
    min: 0.1,
    max: 4,
    doc: 'planned patch × this, per axis, refitted to the topology’s strides',
  },
  width: { kind: 'int', min: 1, max: 512, doc: 'features of the first stage (doubling per stage, capped)' },
  depth: { kind: 'int', min: 2, max: 8, doc: 'resolution stages of the U-Net (≤ what the patch allows)' },
  residual: { kind: 'choice', values: [true, false], doc: 'residual encoder instead of plain convs' },
  se: { kind: 'choice', values: [true, false], doc: 'squeeze-and-excitation (implies residual)' },
  epochs: { kind: 'int', min: 1, max: 100000, doc: 'epochs of this trial (budget per trial)' },
  itersPerEpoch: { kind: 'int', min: 1, max: 100000, doc: 'iterations per epoch' },
  // the recipe's knobs (src/train/recipe.ts): written into the trial's plan, so that `search best
  // --write-plans` hands them on to `medseg train`; bounds are the trainer's own ranges
  diceWeight: {
    kind: 'float',
    min: LOSS_WEIGHT_RANGE.min,
    max: LOSS_WEIGHT_RANGE.max,
    doc: 'weight of the (1 − soft Dice) loss term (nnU-Net 1)',
  },
  ceWeight: {
    kind: 'float',
    min: LOSS_WEIGHT_RANGE.min,
    max: LOSS_WEIGHT_RANGE.max,
    doc: 'weight of the cross-entropy loss term (nnU-Net 1); a trial with both weights 0 fails',
  },
  augmentation: {
    kind: 'float',
    min: AUGMENTATION_RANGE.min,
    max: AUGMENTATION_RANGE.max,
    doc: 'augmentation strength: 0 none, 1 standard; scales every transform’s probability',
  },
  oversampling: {
    kind: 'float',
    min: OVERSAMPLING_RANGE.min,
    max: OVERSAMPLING_RANGE.max,
    doc: 'share of each batch forced to contain foreground (nnU-Net 0.33): samples i ≥ round(batch·(1 − share))',
  },
};

/**
 * The default space: what matters most for a U-Net trained from scratch on a budget (nnU-Net's
 * own choices sit inside every range): learning rate (log 1e-3…3e-2 for SGD-like steps; AdamW's
 * 1e-3 default inside too), optimiser, width 8…32 (log), depth 3…6, patch scale 0.5…1.
 */
export const DEFAULT_SPACE: Space = {
  lr: { type: 'float', low: 1e-3, high: 3e-2, log: true },
  optimizer: { type: 'choice', values: ['sgd', 'adamw'] },
  width: { type: 'int', low: 8, high: 32, log: true },
  depth: { type: 'int', low: 3, high: 6 },
  patchScale: { type: 'float', low: 0.5, high: 1 },
};

export class SpaceError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'SpaceError';
  }
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const rangeSchema = z.strictObject({
  type: z.enum(['float', 'int']),
  low: finite,
  high: finite,
  log: z.boolean().optional(),
});
const choiceSchema = z.strictObject({
  type: z.literal('choice'),
  values: z.array(z.union([z.string(), z.number(), z.boolean()])),
});
const distributionSchema = z.discriminatedUnion('type', [rangeSchema, choiceSchema]);

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  return `${where}: ${issue.message}`;
}

/**
 * Checks a space. `options`: the option table the names must come from (TRAIN_OPTIONS for medseg's
 * trials, null for any name, as the benchmark functions use). Throws one SpaceError listing every
 * problem, naming the source (the file) and the option.
 */
export function validateSpace(
  json: unknown,
  source = 'search space',
  options: Readonly<Record<string, OptionRule>> | null = TRAIN_OPTIONS,
): Space {
  const top = z.record(z.string(), distributionSchema).safeParse(json);
  if (!top.success) throw new SpaceError(source, top.error.issues.map(describe).join('; '));
  const space = top.data as Space;
  const problems: string[] = [];
  if (!Object.keys(space).length) problems.push('the space has no option');
  for (const [name, d] of Object.entries(space)) {
    const rule = options?.[name];
    if (options && !rule) {
      problems.push(`unknown option '${name}' (known: ${Object.keys(options).join(', ')})`);
      continue;
    }
    if (d.type === 'choice') {
      if (!d.values.length) problems.push(`${name}: empty choice (no values)`);
      if (new Set(d.values).size !== d.values.length) problems.push(`${name}: repeated choice values`);
      if (rule && rule.kind !== 'choice' && d.values.some((v) => typeof v !== 'number'))
        problems.push(`${name}: the choices must be numbers`);
      if (rule?.values) {
        const bad = d.values.filter((v) => !rule.values!.includes(v));
        if (bad.length)
          problems.push(
            `${name}: ${bad.map((v) => JSON.stringify(v)).join(', ')} not among ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`,
          );
      }
      if (rule?.kind === 'int' && d.values.some((v) => !Number.isInteger(v)))
        problems.push(`${name}: the choices must be integers`);
      continue;
    }
    if (rule?.kind === 'choice') {
      problems.push(
        `${name}: is a choice (${rule.values!.map((v) => JSON.stringify(v)).join(', ')}), not a range`,
      );
      continue;
    }
    if (rule?.kind === 'float' && d.type === 'int') problems.push(`${name}: is a float option, not int`);
    if (rule?.kind === 'int' && d.type === 'float') problems.push(`${name}: is an int option, not float`);
    if (d.low > d.high) problems.push(`${name}: empty range (low ${d.low} > high ${d.high})`);
    if (d.type === 'int' && (!Number.isInteger(d.low) || !Number.isInteger(d.high)))
      problems.push(`${name}: an int range needs integer bounds`);
    if (d.log && d.low <= 0) problems.push(`${name}: a log range needs low > 0 (got ${d.low})`);
    if (rule?.min !== undefined && d.low < rule.min) problems.push(`${name}: low ${d.low} below ${rule.min}`);
    if (rule?.max !== undefined && d.high > rule.max)
      problems.push(`${name}: high ${d.high} above ${rule.max}`);
  }
  if (problems.length) throw new SpaceError(source, problems.join('; '));
  return space;
}

/** Reads and validates a space file (a missing file or bad JSON is the same one-line error). */
export async function readSpace(file: string): Promise<Space> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SpaceError(file, `cannot read the search space (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SpaceError(file, `not valid JSON (${(e as Error).message})`);
  }
  return validateSpace(json, file);
}

/** The continuous interval a range samples from: an int range widened by half a step at each end,
 * so every integer gets the same share of it (log ranges: the same share in log space). */
function interval(d: Extract<Distribution, { low: number }>): [number, number] {
  const [lo, hi] = d.type === 'int' ? [d.low - 0.5, d.high + 0.5] : [d.low, d.high];
  return d.log ? [Math.log(lo), Math.log(hi)] : [lo, hi];
}

/** A value's position in [0, 1] within its range (log ranges in log space). */
export function toUnit(d: Extract<Distribution, { low: number }>, v: number): number {
  const [lo, hi] = interval(d);
  if (hi === lo) return 0.5;
  return ((d.log ? Math.log(v) : v) - lo) / (hi - lo);
}

/** The inverse of toUnit, rounded for int ranges and clamped into the range. */
export function fromUnit(d: Extract<Distribution, { low: number }>, u: number): number {
  const [lo, hi] = interval(d);
  const t = lo + Math.min(1, Math.max(0, u)) * (hi - lo);
  const x = d.log ? Math.exp(t) : t;
  const v = d.type === 'int' ? Math.round(x) : x;
  return Math.min(d.high, Math.max(d.low, v));
}
