// The ten synthetic tasks, in MSD order.
import type { SynthTask } from '../task.js';
import { brainTumourTask } from './brain-tumour.js';
import { colonTask } from './colon.js';
import { heartTask } from './heart.js';
import { hepaticVesselTask } from './hepatic-vessel.js';
import { hippocampusTask } from './hippocampus.js';
import { liverTask } from './liver.js';
import { lungTask } from './lung.js';
import { pancreasTask } from './pancreas.js';
import { prostateTask } from './prostate.js';
import { spleenTask } from './spleen.js';

export const SYNTH_TASKS: readonly SynthTask[] = [
  brainTumourTask,
  heartTask,
  liverTask,
  hippocampusTask,
  prostateTask,
  lungTask,
  pancreasTask,
  hepaticVesselTask,
  spleenTask,
  colonTask,
];
