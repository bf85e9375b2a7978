// What a run takes from its plan: a budgeted configuration's training section (optimiser, learning
// rate, warm-up, precision, epochs × iterations) fills every option the caller left unset; and
// `train --budget` on a plan without a budget section fits the configuration to the budget first.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { defaultBf16, fitPlansToBudget, writePlans } from '../plan/index.js';
import type { Prepared } from './prepare.js';
import type { TrainOptions } from './types.js';

/** The options a run uses: the caller's, else the plan's training section, else nnU-Net's. */
export function optionsFromPlan(o: TrainOptions, p: Prepared): TrainOptions {
  // (plans.json's budget and training sections were checked by its schema when it was read)
  const t = p.config.training;
  // the plan's learning rate belongs to the plan's optimiser
  const optimizer = o.optimizer ?? t?.optimizer;
  const samePlanOptimizer = !!t && optimizer === t.optimizer;
  return {
    ...o,
    optimizer,
    initialLr: o.initialLr ?? (samePlanOptimizer ? t.initialLr : undefined),
    warmupSteps: o.warmupSteps ?? (samePlanOptimizer ? t.warmupSteps : undefined),
    // bf16 autocast by default where the CPU has native bf16: 1.9× faster per step, ahead at equal time,
    // a few hundredths behind at equal steps (bench/RESULTS.md, "bf16 vs fp32")
    // (on a GPU the caller chooses: the CPU's flags say nothing about it; fp16 excludes bf16)
    bf16: o.fp16 ? false : (o.bf16 ?? t?.bf16 ?? ((o.device ?? 'cpu') === 'cpu' && defaultBf16())),
    epochs: o.epochs ?? (o.budgetSeconds ? undefined : t?.epochs),
    itersPerEpoch: o.itersPerEpoch ?? t?.itersPerEpoch,
    // the recipe's knobs (loss weights, oversampling, augmentation; recipe.ts) a plan may carry
    diceWeight: o.diceWeight ?? p.config.lossWeights?.dice,
    ceWeight: o.ceWeight ?? p.config.lossWeights?.ce,
    foregroundOversampling: o.foregroundOversampling ?? p.config.foregroundOversampling,
    augmentationStrength: o.augmentationStrength ?? p.config.augmentationStrength,
  };
}

function anyFoldStarted(modelDir: string, config: string): boolean {
  const dir = path.join(modelDir, config);
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => f.startsWith('fold_') && existsSync(path.join(dir, f, 'log.jsonl')));
}

/**
 * `train --budget` where the configuration has no budget section: fit it to the budget now (said
 * in the log) and rewrite plans.json, unless a fold was already trained with the plan as it is (the
 * folds of one configuration must share one network), the run resumes, or it is a cascade stage /
 * 2D configuration (then the plan is kept and only the epochs are fitted to the budget).
 */
export async function replanForBudget(o: TrainOptions, p: Prepared): Promise<void> {
  if (!o.budgetSeconds || p.config.budget) return;
  const log = o.log ?? (() => {});
  const name = p.configName;
  const why = o.resume
    ? 'the run resumes'
    : o.initialize
      ? 'the run starts from given weights (fine-tuning): they need the network they were trained as'
      : anyFoldStarted(o.modelDir, name)
        ? `a fold of ${name} was already trained with it`
        : (o.device ?? 'cpu') !== 'cpu'
          ? `the run is on ${o.device} and the calibration times the CPU`
          : p.config.cascade
            ? `${name} is a cascade stage`
            : p.config.network.dims !== 3
              ? `${name} is 2D`
              : null;
  if (why) {
    log(
      `plans.json has no budget section for ${name}; kept as it is (${why}): only the epochs are fitted to the budget`,
    );
    return;
  }
  log(
    `plans.json has no budget section for ${name}: fitting it to the ${o.budgetSeconds} s budget (re-planning)`,
  );
  p.plans = await fitPlansToBudget(p.plans, {
    seconds: o.budgetSeconds,
    configs: [name],
    fp32: o.bf16 === false,
    threads: o.threads,
    log,
  });
  p.config = p.plans.configurations[name]!;
  await writePlans(o.modelDir, p.plans);
}
