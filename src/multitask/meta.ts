// `meta-train`: a meta-learned initialisation over several datasets, by Reptile (default) or
// first-order MAML. Every task is seen as foreground vs background through ONE shared 2-class head:
// the head is then meta-learned with the body (a head re-initialised every inner loop never is, and
// k steps through a random head mostly teach the body to undo that randomness), every task has a
// foreground, and fine-tuning re-initialises the head anyway where the target's label set differs.
// Channel counts that differ go through per-task stems, as in multi-task training.
// Defaults, with their reasons:
//   k = 5 inner steps — Reptile's few-shot setting (5–10): enough for θ' to differ from θ in a
//     task-specific direction, few enough that many tasks are visited in a small budget;
//   inner SGD lr 1e-2, momentum 0.9, fresh every inner loop — the trainer's learning rate; momentum
//     of one task must not carry into the next, and 0.99 (nnU-Net's) would not warm up in 5 steps;
//   ε = 1 annealed linearly to 0 over the run — as Nichol et al.: large early steps find the
//     region good for all tasks, small late ones settle between them;
//   FOMAML β = ε · inner lr — the same scale as one inner step.
// --resume continues an interrupted run exactly (metaResume.ts: θ, epoch, EMA and RNG from
// checkpoint_latest; task order, batches and ε are functions of the seed and the step).
import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { keep, manualSeed, setThreads, tidy, type Tensor } from '../engine/index.js';
import { deepSupervisionLoss, loadCheckpoint, saveCheckpoint } from '../nn/index.js';
import { SGD } from '../optim/index.js';
import { trainOnBatch, type Batch } from '../train/step.js';
import { runEpochs } from '../train/epochs.js';
import { newTrainState, type EpochLog, type TrainState } from '../train/types.js';
import type { ValidationBatch } from '../train/pseudoDice.js';
import { MultiTaskNet, type TaskShape } from './network.js';
import { openTasks, writeTopLevelPlans, type TaskSetOptions } from './tasks.js';
import { DEFAULT_ALPHA, taskOfStep, taskProbabilities } from './sampling.js';
import { modelFiles, taskParams, writeManifest } from './files.js';
import { fomamlUpdate, reptileIteration, snapshot } from './reptile.js';
import { meanOf, primaryOf, taskValidation } from './train.js';
import type { Manifest } from './manifest.js';
import {
  metaDrawnBefore,
  readMetaResumePoint,
  resumeLog,
  NO_OPTIMISER_STATE,
  type MetaSettings,
} from './metaResume.js';

export const SHARED_HEAD = 'foreground';

export const META_DEFAULTS = { innerSteps: 5, innerLr: 1e-2, innerMomentum: 0.9, outerStep: 1 } as const;

export interface MetaTrainOptions extends TaskSetOptions {
  algorithm?: 'reptile' | 'fomaml';
  /** Meta-iterations per epoch and epochs (each meta-iteration = innerSteps steps on one task). */
  epochs?: number;
  itersPerEpoch?: number;
  innerSteps?: number;
  innerLr?: number;
  /** ε at the start (annealed linearly to 0). */
  outerStep?: number;
  alpha?: number;
  threads?: number;
  /** Continue the run in modelDir from its checkpoint_latest (an error when there is none). */
  resume?: boolean;
  /** Called after every epoch, once its checkpoint is written; 'stop' ends the run there. */
  onEpoch?: (e: EpochLog) => void | 'stop' | Promise<void | 'stop'>;
}

/** Labels as foreground (any label > 0) vs background. */
export const foreground = (y: Tensor): Tensor => y.gt(0).to('int64');

export async function metaTrain(o: MetaTrainOptions): Promise<{ modelDir: string; history: EpochLog[] }> {
  const log = o.log ?? (() => {});
  setThreads(o.threads);
  const files = modelFiles(o.modelDir);
  if (existsSync(files.log) && !o.resume)
    throw new Error(
      `${files.foldDir} already holds a training run: pass --resume to continue it, or choose another model folder`,
    );
  const resumed = o.resume
    ? await readMetaResumePoint(o.modelDir, o.datasets, {
        algorithm: o.algorithm,
        seed: o.seed,
        alpha: o.alpha,
        epochs: o.epochs,
        itersPerEpoch: o.itersPerEpoch,
        innerSteps: o.innerSteps,
        innerLr: o.innerLr,
        outerStep: o.outerStep,
      })
    : null;
  const settings: MetaSettings = resumed?.settings ?? {
    algorithm: o.algorithm ?? 'reptile',
    seed: o.seed ?? 0,
    alpha: o.alpha ?? DEFAULT_ALPHA,
    epochs: o.epochs ?? 50,
    itersPerEpoch: o.itersPerEpoch ?? 20,
    innerSteps: o.innerSteps ?? META_DEFAULTS.innerSteps,
    innerLr: o.innerLr ?? META_DEFAULTS.innerLr,
    outerStep: o.outerStep ?? META_DEFAULTS.outerStep,
  };
  const { algorithm, alpha } = settings;
  const k = settings.innerSteps;
  const innerLr = settings.innerLr;
  const eps0 = settings.outerStep;
  const set = await openTasks({ ...o, seed: settings.seed });
  const { tasks } = set;
  const probs = taskProbabilities(
    tasks.map((t) => t.cases),
    alpha,
  );
  manualSeed(settings.seed);
  const shapes: TaskShape[] = tasks.map((t) => ({
    name: t.name,
    channels: t.channels,
    classes: 2,
    head: SHARED_HEAD,
  }));
  const primary = primaryOf(tasks, set.body.inputChannels);
  const net = new MultiTaskNet(set.body, shapes, SHARED_HEAD);
  const params = net.parameters();
  const val: ValidationBatch[][] = tasks.map((t) =>
    t.val.map((b) => ({ x: b.x, y: keep(tidy(() => foreground(b.y))) })),
  );
  let state: TrainState = newTrainState({
    epochs: settings.epochs,
    itersPerEpoch: settings.itersPerEpoch,
    seed: settings.seed,
    config: '3d_fullres',
    fold: 0,
  });
  const manifest: Manifest = {
    format: 1,
    kind: algorithm,
    primary: primary.name,
    bodyChannels: set.body.inputChannels,
    patch: set.patch,
    alpha,
    tasks: tasks.map((t) => ({ ...t.manifest, ...taskParams(net, t.name) })),
    meta: {
      innerSteps: k,
      innerLr,
      innerMomentum: META_DEFAULTS.innerMomentum,
      outerStep: eps0,
      anneal: 'linear to 0',
      head: 'one shared foreground-vs-background head',
    },
  };
  let drawn = new Array<number>(tasks.length).fill(0);
  let history: EpochLog[] = [];
  let eps = eps0;
  try {
    if (resumed) {
      state = await loadCheckpoint<TrainState>(files.latest, net, NO_OPTIMISER_STATE);
      drawn = metaDrawnBefore(probs, settings, state.epoch * state.itersPerEpoch);
      history = await resumeLog(files.log, state.epoch);
      log(
        `resumed from ${files.latest} at epoch ${state.epoch}/${state.totalEpochs} (batches drawn so far: ${tasks.map((t, i) => `${t.name} ${drawn[i]}`).join(', ')})`,
      );
    }
    await mkdir(files.foldDir, { recursive: true });
    const p = primary.plans;
    const c = p.configurations['3d_fullres']!;
    await writeTopLevelPlans(o.modelDir, primary, {
      ...p,
      labelValues: [0, 1],
      configurations: { '3d_fullres': { ...c, network: { ...c.network, numClasses: 2 } } },
    });
    await writeManifest(o.modelDir, manifest);
    const nextBatch = async (i: number): Promise<Batch> => {
      const b = await tasks[i]!.loader.next(drawn[i]!++);
      const y = keep(tidy(() => foreground(b.y)));
      b.y.dispose();
      return { x: b.x, y };
    };
    await runEpochs({
      state,
      history,
      step: async (s) => {
        const i = taskOfStep(probs, state.seed ?? 0, s);
        const name = tasks[i]!.name;
        eps = eps0 * (1 - s / (state.totalEpochs * state.itersPerEpoch));
        const inner = new SGD(params, { lr: innerLr, momentum: META_DEFAULTS.innerMomentum });
        const parts = {
          forward: (x: Tensor) => net.forwardTask(name, x),
          loss: deepSupervisionLoss,
          opt: inner,
          precision: null,
          lrAt: () => innerLr,
        };
        let loss = 0;
        const run = async () => {
          for (let j = 0; j < k; j++) {
            const b = await nextBatch(i);
            try {
              loss += trainOnBatch(parts, s * k + j, b);
            } finally {
              b.x.dispose();
              b.y.dispose();
            }
          }
        };
        try {
          if (algorithm === 'reptile') await reptileIteration(params, run, eps);
          else {
            const before = snapshot(params);
            try {
              await run();
              const b = await nextBatch(i);
              try {
                tidy(() => {
                  inner.zeroGrad();
                  deepSupervisionLoss(net.forwardTask(name, b.x), b.y).backward();
                });
              } finally {
                b.x.dispose();
                b.y.dispose();
              }
              fomamlUpdate(params, before, eps * innerLr);
            } finally {
              for (const t of before) t.dispose();
            }
          }
        } finally {
          inner.dispose();
        }
        return loss / k;
      },
      // foreground Dice of each task after no adaptation (how good the initialisation is as it stands)
      validate: () => tasks.map((t, i) => meanOf(taskValidation(net, { name: t.name, val: val[i]! }, 2))),
      // the initialisation is the final θ (ε has annealed to 0), not the best un-adapted Dice: best =
      // latest. The log line goes first: a run killed before its checkpoint has one line too many,
      // which a resume drops (resumeLog), never one too few.
      record: async (entry) => {
        await appendFile(
          files.log,
          `${JSON.stringify({ ...entry, outer_step: eps, tasks: Object.fromEntries(tasks.map((t, i) => [t.name, { dice: [entry.val_dice[i]] }])) })}\n`,
        );
        await saveCheckpoint(files.latest, net, null, state);
        await saveCheckpoint(files.best, net, null, state);
      },
      lr: () => eps,
      onEpoch: o.onEpoch,
      log,
    });
  } finally {
    for (const v of val) for (const b of v) b.y.dispose();
    await set.close();
    net.dispose();
  }
  return { modelDir: o.modelDir, history };
}
