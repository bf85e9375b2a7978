// The calibration behind budgeted plans: training steps of a few small U-Nets timed on this machine,
// in the precision training will use, and the step-time model fitted to them. Measured once per
// machine and libtorch build and cached (~/.cache/medseg or $MEDSEG_CACHE); a cache written by another
// CPU, flag set, thread count or libtorch is never reused (its key differs, and the key stored inside
// the file is compared in full).
//
// One step here is the trainer's step (src/train/step.ts trainOnBatch: forward under autocast, Dice+CE
// with deep supervision, backward, AdamW), written out again because plan/ sits below train/.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autocast, engineInfo, manualSeed, randint, randn, setThreads, tidy } from '../engine/index.js';
import { UNet, deepSupervisionLoss, type UNetSpec } from '../nn/index.js';
import { AdamW } from '../optim/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { fitStepTime, stepGflop, type CalibrationPoint, type StepTimeModel } from './budgetCost.js';
import { PERFORMANCE_FLAGS, thisCpu } from './cpu.js';
import { planTopology } from './topology.js';

/** Bump when the probes or the step change: older caches then no longer match. */
const PROBE_VERSION = 2;

/** Everything that changes step times: a cache is used only where every field is equal. */
export interface CalibrationKey {
  probeVersion: number;
  cpuModel: string;
  /** The performance-relevant CPU flags present (cpu.ts PERFORMANCE_FLAGS). */
  cpuFlags: string[];
  threads: number;
  torchVersion: string;
  /** libtorch's parallel backend and oneDNN version lines (a different build kernels differently). */
  build: string;
  cuda: boolean;
  precision: 'bf16' | 'fp32';
}

export interface Calibration {
  key: CalibrationKey;
  /** Short digest of the key (plans.json budget.calibration). */
  digest: string;
  measuredAt: string;
  points: CalibrationPoint[];
  model: StepTimeModel;
}

export function calibrationKey(
  precision: 'bf16' | 'fp32',
  threads = os.availableParallelism(),
): CalibrationKey {
  const info = engineInfo();
  const cpu = thisCpu();
  return {
    probeVersion: PROBE_VERSION,
    cpuModel: cpu.model,
    cpuFlags: PERFORMANCE_FLAGS.filter((f) => cpu.flags.includes(f)),
    threads,
    torchVersion: info.torchVersion,
    build: info.parallelInfo
      .split('\n')
      .filter((l) => /OpenMP|MKL|oneDNN|MKL-DNN|backend/i.test(l) && !/NUM_THREADS/.test(l))
      .map((l) => l.trim())
      .join('; '),
    cuda: info.cudaAvailable,
    precision,
  };
}

export function keyDigest(key: CalibrationKey): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

export function cacheDir(): string {
  return process.env.MEDSEG_CACHE ?? path.join(os.homedir(), '.cache', 'medseg');
}

export function calibrationFile(key: CalibrationKey, dir = cacheDir()): string {
  return path.join(dir, `calibration-${keyDigest(key)}.json`);
}

/** The cached calibration for exactly this key, or null (missing, unreadable, or another key). */
export function readCalibration(key: CalibrationKey, dir = cacheDir()): Calibration | null {
  const file = calibrationFile(key, dir);
  if (!existsSync(file)) return null;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Calibration;
    if (JSON.stringify(c.key) !== JSON.stringify(key)) return null;
    if (!Array.isArray(c.points) || !c.points.length) return null;
    return { ...c, model: fitStepTime(c.points) };
  } catch {
    return null;
  }
}

/** The probes: small 3D U-Nets (2 channels, 3 classes, batch 2) spanning ~15× in step cost. */
export function probeNetworks(): { name: string; spec: UNetSpec; patch: number[]; batch: number }[] {
  const probe = (size: number, base: number) => {
    const patch = [size, size, size];
    const topo = planTopology(patch, [1, 1, 1], 6);
    const n = topo.strides.length;
    const spec: UNetSpec = {
      architecture: 'plain',
      dims: 3,
      inputChannels: 2,
      numClasses: 3,
      features: Array.from({ length: n }, (_, i) => Math.min(base * 2 ** i, base * 10)),
      kernelSizes: topo.kernelSizes,
      strides: topo.strides,
      encoderBlocks: new Array<number>(n).fill(2),
      decoderConvs: new Array<number>(n - 1).fill(2),
      deepSupervision: true,
    };
    return { name: `${patch.join('x')} f${base} b2`, spec, patch: topo.patch, batch: 2 };
  };
  return [probe(32, 8), probe(32, 16), probe(48, 16), probe(32, 32)];
}

/** Wall time above this multiple of the CPU time per thread: the process waited for cores. */
const STARVED = 1.25;

/**
 * A step's seconds as an idle machine would see them, from its wall time and the process's CPU time.
 * On a busy machine the wall time counts the waits for a core: measured here (2 cores, bf16, 64×80×80,
 * 2 threads) 1.04 s idle became 2.48 s beside one other busy process and 4.2 s beside three, while the
 * CPU time per thread grew to 1.56 and 1.69 s (OpenMP threads spin at barriers while their partner
 * waits). Where the process clearly got less than its threads' worth of CPU, CPU time per thread is
 * the better estimate; on an idle machine the two agree within 2 %, and the wall time is kept.
 */
export function idleEquivalentSeconds(wallSeconds: number, cpuSeconds: number, threads: number): number {
  const perThread = cpuSeconds / Math.max(1, threads);
  return wallSeconds > STARVED * perThread ? perThread : wallSeconds;
}

/** One timed training step: its wall time, the process's CPU time, and libtorch's threads. */
export interface StepTiming {
  wallSeconds: number;
  cpuSeconds: number;
  threads: number;
}

/** `steps` training steps (after one untimed warm-up step) of one network, each timed. */
export function timeTrainingSteps(
  spec: UNetSpec,
  patch: number[],
  batch: number,
  precision: 'bf16' | 'fp32',
  steps = 2,
): StepTiming[] {
  manualSeed(0);
  const net = new UNet(spec);
  const opt = new AdamW(net.parameters(), { lr: 1e-3, weightDecay: 3e-5 });
  const x = randn([batch, spec.inputChannels, ...patch]);
  const y = randint(0, spec.numClasses, [batch, ...patch]);
  const times: StepTiming[] = [];
  const threads = engineInfo().threads;
  try {
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      tidy(() => {
        const outs = autocast(precision === 'bf16' ? 'bfloat16' : null, () => net.forwardAll(x));
        const l = deepSupervisionLoss(outs, y);
        opt.zeroGrad();
        l.backward();
        opt.step();
      });
      if (i > 0) {
        const cpu = process.cpuUsage(cpu0);
        times.push({
          wallSeconds: (performance.now() - t0) / 1000,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          threads,
        });
      }
    }
  } finally {
    x.dispose();
    y.dispose();
    opt.dispose();
    net.dispose();
  }
  return times;
}

/**
 * The fastest of `steps` training steps of one network in idle-equivalent seconds
 * (idleEquivalentSeconds), so that a plan made on a busy machine is not sized for its load.
 */
export function timeTrainingStep(
  spec: UNetSpec,
  patch: number[],
  batch: number,
  precision: 'bf16' | 'fp32',
  steps = 2,
): number {
  // the fastest step: a shared machine's slow spells are load, not the network's cost
  return Math.min(
    ...timeTrainingSteps(spec, patch, batch, precision, steps).map((t) =>
      idleEquivalentSeconds(t.wallSeconds, t.cpuSeconds, t.threads),
    ),
  );
}

export interface CalibrateOptions {
  precision: 'bf16' | 'fp32';
  threads?: number;
  /** Measure again even when a matching cache exists. */
  refresh?: boolean;
  cacheDir?: string;
  /** Networks to time (default probeNetworks(); tests pass tiny ones). */
  probes?: ReturnType<typeof probeNetworks>;
  log?: (s: string) => void;
}

/**
 * The calibration with `point` added (a point of the same name replaced) and the model refitted,
 * written back to the cache so the next plan on this machine starts from it.
 */
export async function addCalibrationPoint(
  c: Calibration,
  point: CalibrationPoint,
  dir = cacheDir(),
): Promise<Calibration> {
  // A network timed twice keeps its faster time: a step is only ever slowed by other work on the
  // machine, and one timing on a loaded machine must not shrink every later plan made here.
  const before = c.points.find((p) => p.name === point.name);
  if (before && before.seconds <= point.seconds) return c;
  const points = [...c.points.filter((p) => p.name !== point.name), point];
  return writeCalibration({ ...c, points, model: fitStepTime(points) }, dir);
}

/** Stores a calibration in the cache under its key (atomically) and returns it. */
async function writeCalibration(c: Calibration, dir: string): Promise<Calibration> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(calibrationFile(c.key, dir), JSON.stringify(c, null, 2));
  return c;
}

/** This machine's calibration: from the cache when its key matches exactly, else measured (~10-30 s). */
export async function calibrate(o: CalibrateOptions): Promise<Calibration> {
  const threads = o.threads ?? os.availableParallelism();
  setThreads(threads);
  const key = calibrationKey(o.precision, threads);
  const dir = o.cacheDir ?? cacheDir();
  if (!o.refresh) {
    const cached = readCalibration(key, dir);
    if (cached) {
      o.log?.(`calibration: cached ${calibrationFile(key, dir)}`);
      return cached;
    }
  }
  const probes = o.probes ?? probeNetworks();
  o.log?.(`calibration: timing ${probes.length} small networks (${o.precision}, ${threads} threads)`);
  const points: CalibrationPoint[] = probes.map((p) => {
    const seconds = timeTrainingStep(p.spec, p.patch, p.batch, o.precision);
    o.log?.(`calibration: ${p.name} ${seconds.toFixed(3)} s/step`);
    return { name: p.name, gflop: stepGflop(p.spec, p.patch, p.batch), seconds };
  });
  const measuredAt = new Date().toISOString();
  return writeCalibration(
    { key, digest: keyDigest(key), measuredAt, points, model: fitStepTime(points) },
    dir,
  );
}
