// The train-step benchmark (the trainer's own step function, src/train/step.ts): nnU-Net's 3d_fullres PlainConvUNet, Dice+CE with deep supervision,
// SGD (lr 0.01, Nesterov 0.99, wd 3e-5), random input and labels from a fixed seed.
import {
  manualSeed,
  randint,
  randn,
  setThreads,
  engineInfo,
  synchronize,
  useDevice,
} from '../engine/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../nn/index.js';
import { SGD, GradScaler } from '../optim/index.js';
import { trainOnBatch, type StepParts } from '../train/step.js';
import { peakRssMb } from './memory.js';
import { median } from '../common/stats.js';

export interface TrainStepBenchOptions {
  patch: number[];
  batch: number;
  inChannels: number;
  classes: number;
  bf16: boolean;
  /** float16 autocast with dynamic loss scaling (GPU only). */
  fp16?: boolean;
  steps: number;
  warmup: number;
  threads?: number;
  seed?: number;
  device?: string;
  onStep?: (i: number, ms: number, loss: number) => void;
}

export interface TrainStepBenchResult {
  ms_per_step: number;
  steps_ms: number[];
  parameters: number;
  peak_rss_mb: number;
  loss_first: number;
  loss_last: number;
  patch: number[];
  batch: number;
  bf16: boolean;
  fp16: boolean;
  /** Steps the loss scaler skipped (fp16). */
  skipped_steps: number;
  threads: number;
  torch: string;
  device: string;
}

export function benchTrainStep(o: TrainStepBenchOptions): TrainStepBenchResult {
  setThreads(o.threads);
  manualSeed(o.seed ?? 0);
  const device = o.device ?? 'cpu';
  const net = new UNet(defaultPlainSpec(o.patch, o.inChannels, o.classes));
  if (device !== 'cpu') net.to(device);
  useDevice(device);
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const parts: StepParts = {
    forward: (input) => net.forwardAll(input),
    loss: deepSupervisionLoss,
    opt,
    precision: o.fp16 ? 'float16' : o.bf16 ? 'bfloat16' : null,
    scaler: o.fp16 ? new GradScaler() : null,
    lrAt: () => 0.01,
  };
  const x = randn([o.batch, o.inChannels, ...o.patch], { device });
  const y = randint(0, o.classes, [o.batch, ...o.patch], { device });
  const times: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const t0 = performance.now();
    const loss = trainOnBatch(parts, i, { x, y });
    synchronize();
    const ms = performance.now() - t0;
    if (i >= o.warmup) times.push(ms);
    losses.push(loss);
    o.onStep?.(i, ms, loss);
  }
  const result: TrainStepBenchResult = {
    ms_per_step: median(times),
    steps_ms: times.map((t) => Math.round(t)),
    parameters: net.numParameters(),
    peak_rss_mb: Math.round(peakRssMb()),
    loss_first: losses[0]!,
    loss_last: losses[losses.length - 1]!,
    patch: o.patch,
    batch: o.batch,
    bf16: o.bf16,
    fp16: !!o.fp16,
    skipped_steps: parts.scaler?.skipped ?? 0,
    threads: engineInfo().threads,
    torch: engineInfo().torchVersion,
    device,
  };
  x.dispose();
  y.dispose();
  opt.dispose();
  net.dispose();
  return result;
}
