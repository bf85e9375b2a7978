// `train-multi`: one network over several datasets. Each step trains on a batch of one task, the task
// drawn with probability ∝ cases^α; the step itself is the trainer's (trainOnBatch: autocast forward,
// Dice+CE with deep supervision, backward, SGD at the poly schedule) through that task's stem and
// head; the epoch loop is the trainer's (runEpochs) with per-task validation Dice and per-task loss in
// log.jsonl.
import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { manualSeed, setThreads, type Tensor } from '../engine/index.js';
import { deepSupervisionLoss, saveCheckpoint, Module, type UNet } from '../nn/index.js';
import { SGD, warmupPolyLR } from '../optim/index.js';
import { trainOnBatch, type StepParts } from '../train/step.js';
import { runEpochs } from '../train/epochs.js';
import { pseudoDice } from '../train/pseudoDice.js';
import { newTrainState, type EpochLog, type TrainState } from '../train/types.js';
import { MultiTaskNet, forwardTaskFull, type TaskShape } from './network.js';
import { openTasks, writeTopLevelPlans, type TaskSetOptions, type OpenTask } from './tasks.js';
import { DEFAULT_ALPHA, taskOfStep, taskProbabilities } from './sampling.js';
import { modelFiles, taskParams, writeManifest, writeTaskViews } from './files.js';
import type { Manifest } from './manifest.js';

export interface TrainMultiOptions extends TaskSetOptions {
  epochs?: number;
  itersPerEpoch?: number;
  alpha?: number;
  initialLr?: number;
  warmupSteps?: number;
  bf16?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

/** One line of log.jsonl: the trainer's entry plus each task's loss, steps and validation Dice. */
export interface MultiEpochLog extends EpochLog {
  tasks: Record<string, { loss: number; steps: number; dice: number[] }>;
}

export interface TrainMultiResult {
  modelDir: string;
  history: MultiEpochLog[];
  probabilities: Record<string, number>;
}

/** A task's forward as a UNet-shaped module for pseudoDice (train/eval reach the whole network). */
class TaskForward extends Module {
  constructor(
    private readonly net: MultiTaskNet,
    private readonly task: string,
  ) {
    super();
    this.child('net', net);
  }
  forward(x: Tensor): Tensor {
    return forwardTaskFull(this.net, this.task, x);
  }
}

export function taskValidation(
  net: MultiTaskNet,
  t: { name: string; val: OpenTask['val'] },
  classes: number,
): number[] {
  return pseudoDice(new TaskForward(net, t.name) as unknown as UNet, t.val, classes, null, false);
}

export const meanOf = (d: number[]) => {
  const v = d.filter((x) => !Number.isNaN(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
};

/** The primary task: the first with as many channels as the body (its plans are the folder's). */
export function primaryOf<T extends { channels: number }>(tasks: T[], bodyChannels: number): T {
  return tasks.find((t) => t.channels === bodyChannels)!;
}

export async function trainMulti(o: TrainMultiOptions): Promise<TrainMultiResult> {
  const log = o.log ?? (() => {});
  setThreads(o.threads);
  const files = modelFiles(o.modelDir);
  if (existsSync(files.log))
    throw new Error(`${files.foldDir} already holds a training run: choose another model folder`);
  const set = await openTasks(o);
  const { tasks } = set;
  const alpha = o.alpha ?? DEFAULT_ALPHA;
  const probs = taskProbabilities(
    tasks.map((t) => t.cases),
    alpha,
  );
  log(
    `task probabilities (α = ${alpha}): ${tasks.map((t, i) => `${t.name} ${probs[i]!.toFixed(3)}`).join(', ')}`,
  );
  manualSeed(o.seed ?? 0);
  const shapes: TaskShape[] = tasks.map((t) => ({
    name: t.name,
    channels: t.channels,
    classes: t.classes,
    head: t.name,
  }));
  const primary = primaryOf(tasks, set.body.inputChannels);
  const net = new MultiTaskNet(set.body, shapes, primary.name);
  const opt = new SGD(net.parameters(), {
    lr: o.initialLr ?? 1e-2,
    momentum: 0.99,
    nesterov: true,
    weightDecay: 3e-5,
  });
  const lr0 = opt.lr;
  const state: TrainState = newTrainState({
    epochs: o.epochs ?? 100,
    itersPerEpoch: o.itersPerEpoch ?? 250,
    seed: o.seed ?? 0,
    config: '3d_fullres',
    fold: 0,
  });
  const manifest: Manifest = {
    format: 1,
    kind: 'multitask',
    primary: primary.name,
    bodyChannels: set.body.inputChannels,
    patch: set.patch,
    alpha,
    tasks: tasks.map((t) => ({ ...t.manifest, ...taskParams(net, t.name) })),
  };
  const history: MultiEpochLog[] = [];
  const perTask = new Map<string, { loss: number; steps: number }>();
  const drawn = new Array<number>(tasks.length).fill(0);
  const precision = o.bf16 ? 'bfloat16' : null;
  try {
    await mkdir(files.foldDir, { recursive: true });
    await writeTopLevelPlans(o.modelDir, primary);
    await writeManifest(o.modelDir, manifest);
    const lrAt = (s: number) =>
      warmupPolyLR(lr0, s, state.totalEpochs * state.itersPerEpoch, o.warmupSteps ?? 0);
    const parts: StepParts[] = tasks.map((t) => ({
      forward: (x) => net.forwardTask(t.name, x),
      loss: deepSupervisionLoss,
      opt,
      precision,
      lrAt,
    }));
    let lastDice: Record<string, number[]> = {};
    await runEpochs({
      state,
      history,
      step: async (s) => {
        const i = taskOfStep(probs, state.seed ?? 0, s);
        const t = tasks[i]!;
        const batch = await t.loader.next(drawn[i]!++);
        try {
          const l = trainOnBatch(parts[i]!, s, batch);
          const acc = perTask.get(t.name) ?? { loss: 0, steps: 0 };
          perTask.set(t.name, { loss: acc.loss + l, steps: acc.steps + 1 });
          return l;
        } finally {
          batch.x.dispose();
          batch.y.dispose();
        }
      },
      // one entry per task: its mean foreground Dice (the EMA follows their mean)
      validate: () => {
        lastDice = Object.fromEntries(tasks.map((t) => [t.name, taskValidation(net, t, t.classes)]));
        return tasks.map((t) => meanOf(lastDice[t.name]!));
      },
      record: async (entry, improved) => {
        await saveCheckpoint(files.latest, net, opt, state);
        if (improved) await saveCheckpoint(files.best, net, opt, state);
        const line: MultiEpochLog = {
          ...entry,
          tasks: Object.fromEntries(
            tasks.map((t) => {
              const a = perTask.get(t.name) ?? { loss: NaN, steps: 0 };
              return [
                t.name,
                { loss: a.steps ? a.loss / a.steps : NaN, steps: a.steps, dice: lastDice[t.name]! },
              ];
            }),
          ),
        };
        history[history.length - 1] = line;
        perTask.clear();
        await appendFile(files.log, `${JSON.stringify(line)}\n`);
      },
      lr: () => opt.lr,
      log,
    });
    await writeTaskViews(o.modelDir, net, manifest);
  } finally {
    await set.close();
    net.dispose();
    opt.dispose();
  }
  return {
    modelDir: o.modelDir,
    history,
    probabilities: Object.fromEntries(tasks.map((t, i) => [t.name, probs[i]!])),
  };
}
