// The schemas of a budgeted configuration's sections in plans.json (src/plan/budget.ts writes them):
// `budget` says what the plan was fitted to and why, `training` holds the defaults train uses.
import { z } from 'zod';

const nonNegative = z.number().min(0);

export const budgetSectionSchema = z.strictObject({
  seconds: z.number().positive(),
  /** Predicted seconds per training step of the chosen network on the calibrated machine. */
  stepSeconds: nonNegative,
  /** Steps planned: training.epochs × training.itersPerEpoch. */
  steps: z.int().min(0),
  why: z.string(),
  precision: z.enum(['bf16', 'fp32']).optional(),
  /** The calibration the step times come from (calibrate.ts cache key digest). */
  calibration: z.string().optional(),
});
export type BudgetSection = z.infer<typeof budgetSectionSchema>;

export const trainingDefaultsSchema = z.strictObject({
  optimizer: z.enum(['sgd', 'adamw']),
  initialLr: z.number().positive(),
  warmupSteps: z.int().min(0),
  bf16: z.boolean(),
  epochs: z.int().positive(),
  itersPerEpoch: z.int().positive(),
});
export type TrainingDefaults = z.infer<typeof trainingDefaultsSchema>;
