// Fitting plans.json to a time budget on this machine: calibrate (cached), then the rule of
// budget.ts on each 3D configuration asked for. Spacing and normalisation stay nnU-Net's, so the
// preprocessed data of a plan stay valid when it is fitted to a budget afterwards.
import { calibrate } from './calibrate.js';
import { defaultBf16 } from './cpu.js';
import { planForBudget } from './budget.js';
import type { ConfigurationName, Plans } from './planner.js';

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
  log?: (s: string) => void;
}

/** A copy of the plans with the chosen configurations fitted to the budget. */
export async function fitPlansToBudget(plans: Plans, o: BudgetPlanOptions): Promise<Plans> {
  const precision = !o.fp32 && defaultBf16() ? 'bf16' : 'fp32';
  const cal = await calibrate({
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
    const fitted = planForBudget({
      base,
      seconds: o.seconds,
      model: cal.model,
      precision,
      calibration: cal.digest,
    });
    o.log?.(`${name}: ${fitted.budget!.why}`);
    configurations[name] = fitted;
  }
  return { ...plans, configurations };
}
