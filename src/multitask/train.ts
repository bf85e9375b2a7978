// `train-multi`: one network over several datasets. Each step trains on a batch of one task, the task
// drawn with probability ∝ cases^α; the step itself is the trainer's (trainOnBatch: autocast forward,
// Dice+CE with deep supervision, backward, SGD at the poly schedule) through that task's stem and
// head; the epoch loop is the trainer's (runEpochs) with per-task validation Dice and per-task loss in
// log.jsonl. Resumable exactly as `train` is (--resume): checkpoint_latest holds the network, the
// optimiser's state, the epoch and the seed; the task order and every task's batches are functions
// of (seed, step), so the per-task batch counters are recomputed (resume.ts).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { manualSeed, setThreads, type Tensor } from '../engine/index.js';
import { deepSupervisionLoss, loadCheckpoint, saveCheckpoint, Module, type UNet } from '../nn/index.js';
import { SGD, warmupPolyLR } from '../optim/index.js';
import { trainOnBatch, type StepParts } from '../train/step.js';
import { runEpochs } from '../train/epochs.js';
import { pseudoDice } from '../train/pseudoDice.js';
import { newTrainState, type EpochLog, type TrainState } from '../train/types.js';
import { MultiTaskNet, forwardTaskFull, type TaskShape } from './network.js';
import { openTasks, writeTopLevelPlans, type TaskSetOptions, type OpenTask } from './tasks.js';
import { DEFAULT_ALPHA, taskOfStep, taskProbabilities } from './sampling.js';
import { modelFiles, taskParams, writeManifest, writeTaskViews } from './files.js';
import { readManifest, type Manifest } from './manifest.js';
import { checkpointState, drawnBefore } from './resume.js';

export interface TrainMultiOptions extends TaskSetOptions {
  epochs?: number;
  itersPerEpoch?: number;
  alpha?: number;
  initialLr?: number;
  warmupSteps?: number;
  bf16?: boolean;
  threads?: number;
  /** Continue the run in modelDir from its checkpoint_latest (a new run when there is none). */
  resume?: boolean;
  /** Called after every epoch, once its checkpoint is written; 'stop' ends the run there. */
  onEpoch?: (e: EpochLog) => void | 'stop' | Promise<void | 'stop'>;
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
  const resuming = !!o.resume && existsSync(files.latest);
  if (existsSync(files.log) && !resuming)
    throw new Error(
      `${files.foldDir} already holds a training run: pass --resume to continue it, or choose another model folder`,
    );
  // a resumed run keeps what fixed its task order and batches: the seed, α and the datasets
  const before = resuming ? await checkpointState(files.latest) : null;
  const old = resuming ? await readManifest(o.modelDir) : null;
  const seed = before?.seed ?? o.seed ?? 0;
  if (before && o.seed !== undefined && o.seed !== seed)
    throw new Error(
      `${o.modelDir} was trained with seed ${seed}: resume it without --seed or with --seed ${seed}`,
    );
  if (old && o.alpha !== undefined && o.alpha !== old.alpha)
    throw new Error(`${o.modelDir} was trained with alpha ${old.alpha}: resume it with the same alpha`);
  const set = await openTasks({ ...o, seed });
  const { tasks } = set;
  if (old && old.tasks.map((t) => t.name).join() !== tasks.map((t) => t.name).join()) {
    await set.close();
    throw new Error(
      `${o.modelDir} was trained on ${old.tasks.map((t) => t.name).join(', ')}: resume it with the same datasets in the same order`,
    );
  }
  const alpha = old?.alpha ?? o.alpha ?? DEFAULT_ALPHA;
  const probs = taskProbabilities(
    tasks.map((t) => t.cases),
    alpha,
  );
  log(
    `task probabilities (α = ${alpha}): ${tasks.map((t, i) => `${t.name} ${probs[i]!.toFixed(3)}`).join(', ')}`,
  );
  manualSeed(seed);
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
  let state: TrainState = newTrainState({
    epochs: o.epochs ?? 100,
    itersPerEpoch: o.itersPerEpoch ?? 250,
    seed,
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
  let drawn = new Array<number>(tasks.length).fill(0);
  const precision = o.bf16 ? 'bfloat16' : null;
  try {
    if (resuming) {
      state = await loadCheckpoint<TrainState>(files.latest, net, opt);
      if (o.epochs && o.epochs !== state.totalEpochs) {
        log(`resume: the run was planned for ${state.totalEpochs} epochs, continuing to ${o.epochs}`);
        state.totalEpochs = o.epochs;
      }
      drawn = drawnBefore(probs, seed, state.epoch * state.itersPerEpoch);
      for (const line of (await readFile(files.log, 'utf8')).split('\n').filter(Boolean))
        history.push(JSON.parse(line) as MultiEpochLog);
      log(
        `resumed from ${files.latest} at epoch ${state.epoch}/${state.totalEpochs} (batches drawn so far: ${tasks.map((t, i) => `${t.name} ${drawn[i]}`).join(', ')})`,
      );
    }
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
        const i = taskOfStep(probs, seed, s);
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
      onEpoch: o.onEpoch,
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
