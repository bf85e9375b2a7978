// Fitting plans.json to a time budget on this machine: calibrate (cached), then the rule of
// budget.ts on each 3D configuration asked for, then a check of the choice: the network chosen is
// timed itself, since the calibration's small probes extrapolate to it (on the 2-core EPYC they
// predicted 1.42 s/step for BraTS's 64x96x112 network, which takes 2.11 s: 1.5x the steps promised).
// The measured point joins the calibration (and its cache) and the rule runs again, until it
// chooses a network that was measured (its steps then come from the refitted model). Spacing and
// normalisation stay nnU-Net's, so the preprocessed data of a plan stay valid when it is fitted to
// a budget afterwards.
import type { UNetSpec } from '../nn/unet.js';
import { addCalibrationPoint, calibrate, timeTrainingStep, type Calibration } from './calibrate.js';
import { stepGflop } from './budgetCost.js';
import { defaultBf16 } from './cpu.js';
import { planForBudget } from './budget.js';
import type { Configuration, ConfigurationName, Plans } from './planner.js';

/** At most this many networks are timed per configuration (each a few seconds). */
export const MAX_VERIFY_ROUNDS = 3;

/** Seconds per training step of one network at this patch and batch (the calibration's timer). */
export type StepTimer = (
  spec: UNetSpec,
  patch: number[],
  batch: number,
  precision: 'bf16' | 'fp32',
) => number;

export interface BudgetPlanOptions {
  /** Training budget, seconds. */
  seconds: number;
  /** Configurations to fit (default 3d_fullres). Cascade stages keep their stage 1's network. */
  configs?: ConfigurationName[];
  /** Plan in float32 even where the CPU has native bf16. */
  fp32?: boolean;
  threads?: number;
  /** Measure the calibration again (e.g. after it was cached on a busy machine). */
  recalibrate?: boolean;
  cacheDir?: string;
  /** Time the chosen network and re-plan when the calibration mispredicted it (default true). */
  verify?: boolean;
  /** The timer of that check (default: calibrate.ts's timeTrainingStep; tests inject one). */
  timeStep?: StepTimer;
  log?: (s: string) => void;
}

/** The calibration point's name of a configuration's network (one name per network, patch and batch). */
export function networkPointName(c: Configuration): string {
  const f = c.network.features;
  return `${c.patch.join('x')} f${f[0]}-${f.at(-1)}x${f.length} ${c.network.architecture} b${c.batchSize}`;
}

/** A copy of the plans with the chosen configurations fitted to the budget. */
export async function fitPlansToBudget(plans: Plans, o: BudgetPlanOptions): Promise<Plans> {
  const precision = !o.fp32 && defaultBf16() ? 'bf16' : 'fp32';
  let cal = await calibrate({
    precision,
    threads: o.threads,
    refresh: o.recalibrate,
    cacheDir: o.cacheDir,
    log: o.log,
  });
  const configurations = { ...plans.configurations };
  for (const name of o.configs ?? ['3d_fullres']) {
    const base = configurations[name];
    if (!base) throw new Error(`plans have no configuration '${name}' to fit to the budget`);
    if (base.cascade)
      throw new Error(
        `${name} is a cascade stage: fit its first stage (${base.cascade.previousStage}) instead`,
      );
    if (base.network.dims !== 3) throw new Error(`${name}: only 3D configurations are fitted to a budget`);
    // the rule starts from nnU-Net's configuration, never from an earlier budgeted one
    if (base.budget)
      throw new Error(`${name} is already fitted to a budget: plan the dataset again (medseg plan --budget)`);
    const fit = (c: Calibration) =>
      planForBudget({ base, seconds: o.seconds, model: c.model, precision, calibration: c.digest });
    let fitted = fit(cal);
    if (o.verify !== false) ({ fitted, cal } = await verifyChoice(fitted, cal, fit, precision, o));
    o.log?.(`${name}: ${fitted.budget!.why}`);
    configurations[name] = fitted;
  }
  return { ...plans, configurations };
}

/** Times the chosen network, adds it to the calibration and re-plans, until the choice was measured. */
async function verifyChoice(
  fitted: Configuration,
  cal: Calibration,
  fit: (c: Calibration) => Configuration,
  precision: 'bf16' | 'fp32',
  o: BudgetPlanOptions,
): Promise<{ fitted: Configuration; cal: Calibration }> {
  const timeStep = o.timeStep ?? timeTrainingStep;
  for (let round = 0; round < MAX_VERIFY_ROUNDS; round++) {
    const point = networkPointName(fitted);
    if (cal.points.some((p) => p.name === point)) break; // measured before: the model already knows it
    const seconds = timeStep(fitted.network, fitted.patch, fitted.batchSize, precision);
    const predicted = fitted.budget!.stepSeconds;
    o.log?.(
      `budget check: ${point}: predicted ${predicted.toFixed(2)} s/step, measured ${seconds.toFixed(2)}`,
    );
    const gflop = stepGflop(fitted.network, fitted.patch, fitted.batchSize);
    cal = await addCalibrationPoint(cal, { name: point, gflop, seconds }, o.cacheDir);
    fitted = fit(cal);
  }
  return { fitted, cal };
}
