// One synthetic case in memory: the task's grid for the size (with this case's spacing), a PRNG seeded
// from (seed, task, case index) alone, and the painted images wrapped as Volumes.
import type { Volume } from '../io/volume.js';
import { volumeOf, type Grid, type Vec3 } from './grid.js';
import { hashSeed, Rng } from '../common/random.js';
import { SYNTH_SIZES, type SynthSize, type SynthTask } from './task.js';
import { SYNTH_TASKS } from './tasks/index.js';

export interface SynthCase {
  id: string;
  channels: Volume[];
  label: Volume;
}

/** Finds a task by key ('hepatic-vessel'), name ('HepaticVessel'), 'Task08', 'Dataset008' or number. */
export function findTask(name: string): SynthTask {
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const n = norm(name);
  const num = /^(?:task|dataset)?0*(\d+)$/.exec(n)?.[1];
  const task = SYNTH_TASKS.find(
    (t) => norm(t.key) === n || norm(t.name) === n || (num !== undefined && t.number === Number(num)),
  );
  if (!task) {
    throw new Error(`unknown task '${name}' (known: ${SYNTH_TASKS.map((t) => t.key).join(', ')})`);
  }
  return task;
}

export function assertSize(size: string): asserts size is SynthSize {
  if (!(SYNTH_SIZES as readonly string[]).includes(size)) {
    throw new Error(`unknown size '${size}' (known: ${SYNTH_SIZES.join(', ')})`);
  }
}

export function caseId(task: SynthTask, index: number): string {
  return `${task.name.toLowerCase()}_${String(index).padStart(3, '0')}`;
}

/** nnU-Net's folder name for the task's dataset, e.g. Dataset009_Spleen. */
export function datasetFolderName(task: SynthTask): string {
  return `Dataset${String(task.number).padStart(3, '0')}_${task.name}`;
}

/** The grid of one case: the size's grid with the in-plane spacing spread a little between cases. */
export function caseGrid(task: SynthTask, size: SynthSize, rng: Rng): Grid {
  const spec = task.sizes[size];
  const f = 1 + rng.uniform(-task.spacingJitter, task.spacingJitter);
  const spacing: Vec3 = [spec.spacing[0] * f, spec.spacing[1] * f, spec.spacing[2]];
  return { shape: [...spec.shape], spacing, flip: [...task.flip] };
}

export function generateCase(
  task: SynthTask,
  index: number,
  opts: { seed?: number; size?: SynthSize } = {},
): SynthCase {
  const rng = new Rng(hashSeed(opts.seed ?? 0, task.key, index));
  const grid = caseGrid(task, opts.size ?? 'tiny', rng.fork('grid'));
  const images = task.generate(rng.fork('scene'), grid);
  const channels = images.channels.map((data) =>
    volumeOf(grid, data, data instanceof Int16Array ? 'int16' : 'float32'),
  );
  return { id: caseId(task, index), channels, label: volumeOf(grid, images.label, 'uint8') };
}
