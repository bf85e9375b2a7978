// The library's train() checks its numeric options against the ranges the CLI uses
// (src/common/ranges.ts), so that a program passing `epochs: 0` or `initialLr: NaN` gets the same
// one-line refusal as `medseg train --epochs 0`, before any data is read or libtorch is called
// (a NaN learning rate would otherwise train silently, a huge seed reach libtorch).
import {
  inRange,
  mustBe,
  type Range,
  AUGMENTATION_RANGE,
  BUDGET_SECONDS_RANGE,
  COUNT_RANGE,
  FOLD_RANGE,
  LOSS_WEIGHT_RANGE,
  LR_RANGE,
  MEMORY_GB_RANGE,
  OVERSAMPLING_RANGE,
  SEED_RANGE,
  THREADS_RANGE,
  WARMUP_RANGE,
} from '../common/ranges.js';
import { CONFIGURATION_NAMES } from '../plan/schema.js';
import type { TrainOptions } from './types.js';
import { CHECKPOINT_NAMES, isCheckpointName } from './checkpointChoice.js';

export class TrainOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainOptionsError';
  }
}

/** Every numeric option of TrainOptions: its range and whether it is an integer. */
export const TRAIN_OPTION_RANGES: Readonly<
  Partial<Record<keyof TrainOptions, { range: Range; integer: boolean }>>
> = {
  fold: { range: FOLD_RANGE, integer: true },
  epochs: { range: COUNT_RANGE, integer: true },
  itersPerEpoch: { range: COUNT_RANGE, integer: true },
  budgetSeconds: { range: BUDGET_SECONDS_RANGE, integer: false },
  initialLr: { range: LR_RANGE, integer: false },
  warmupSteps: { range: WARMUP_RANGE, integer: true },
  seed: { range: SEED_RANGE, integer: true },
  memoryGb: { range: MEMORY_GB_RANGE, integer: false },
  threads: { range: THREADS_RANGE, integer: true },
  valPatches: { range: COUNT_RANGE, integer: true },
  diceWeight: { range: LOSS_WEIGHT_RANGE, integer: false },
  ceWeight: { range: LOSS_WEIGHT_RANGE, integer: false },
  foregroundOversampling: { range: OVERSAMPLING_RANGE, integer: false },
  augmentationStrength: { range: AUGMENTATION_RANGE, integer: false },
};

const shown = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));

/** The problems of `o`, one phrase each ("option 'epochs' must be …, got 0"); empty when fine. */
export function trainOptionProblems(o: Partial<TrainOptions>): string[] {
  const problems: string[] = [];
  for (const [key, rule] of Object.entries(TRAIN_OPTION_RANGES)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && !inRange(v, rule.range, rule.integer))
      problems.push(`option '${key}' ${mustBe(rule.range, rule.integer)}, got ${shown(v)}`);
  }
  if (o.diceWeight === 0 && o.ceWeight === 0)
    problems.push("options 'diceWeight' and 'ceWeight' are both 0: the loss would be 0 and nothing trains");
  if (o.optimizer !== undefined && o.optimizer !== 'sgd' && o.optimizer !== 'adamw')
    problems.push(`option 'optimizer' must be 'sgd' or 'adamw', got ${shown(o.optimizer)}`);
  if (o.validationCheckpoint !== undefined && !isCheckpointName(o.validationCheckpoint))
    problems.push(
      `option 'validationCheckpoint' must be ${CHECKPOINT_NAMES.map((c) => `'${c}'`).join(' or ')}, got ${shown(o.validationCheckpoint)}`,
    );
  if (o.config !== undefined && !(CONFIGURATION_NAMES as readonly string[]).includes(o.config))
    problems.push(`option 'config' must be one of ${CONFIGURATION_NAMES.join(', ')}, got ${shown(o.config)}`);
  for (const key of ['dataset', 'modelDir'] as const)
    if (key in o && (typeof o[key] !== 'string' || !o[key]))
      problems.push(`option '${key}' must be a folder path, got ${shown(o[key])}`);
  return problems;
}

/**
 * Throws one TrainOptionsError naming every bad option ("train: option 'epochs' must be …");
 * `who` names the caller (a search checks the options its trials will train with).
 */
export function checkTrainOptions(o: Partial<TrainOptions>, who = 'train'): void {
  const problems = trainOptionProblems(o);
  if (problems.length) throw new TrainOptionsError(`${who}: ${problems.join('; ')}`);
}
