// What one synthetic task is: its dataset.json facts (channels, labels), its grids per size, and a
// function that paints one case. The generator (generate.ts) adds seeds, per-case grids and file output.
import type { Grid, Vec3 } from './grid.js';
import type { Rng } from '../common/random.js';

export type SynthSize = 'tiny' | 'small' | 'realistic';
export const SYNTH_SIZES: readonly SynthSize[] = ['tiny', 'small', 'realistic'];

export interface GridSpec {
  shape: Vec3;
  spacing: Vec3;
}

export interface SynthImages {
  /** One array per channel, in the grid's voxel order. */
  channels: (Int16Array | Float32Array)[];
  label: Uint8Array;
}

export interface SynthTask {
  /** CLI name, e.g. 'brain-tumour'. */
  key: string;
  /** MSD task number, 1–10; also the nnU-Net dataset id. */
  number: number;
  /** nnU-Net dataset name, e.g. 'BrainTumour' (folder Dataset001_BrainTumour). */
  name: string;
  description: string;
  modality: 'CT' | 'MRI';
  channelNames: string[];
  /** nnU-Net v2 labels: name → value, or → values for a region. */
  labels: Record<string, number | number[]>;
  regionClassOrder?: number[];
  sizes: Record<SynthSize, GridSpec>;
  /** Relative spread of the in-plane spacing between cases (scanners differ), 0 for a fixed protocol. */
  spacingJitter: number;
  /** Axis directions written to the header (CT: x, y flipped, as DICOM-converted files usually are). */
  flip: Vec3;
  generate(rng: Rng, grid: Grid): SynthImages;
}
