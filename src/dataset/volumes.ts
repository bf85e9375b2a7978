// Loading a case's voxels: every channel as a 3D Volume (split out of a 4D file when the layout stores
// channels so) and its label.
import { readImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import type { DatasetCase } from './types.js';

/** Volume `index` of a 4D image as a 3D one with the same geometry (the data is copied). */
export function channelOf(vol: Volume, index: number): Volume {
  if (vol.shape.length < 4 || (vol.shape[3] ?? 1) === 1) {
    if (index === 0) return { ...vol, shape: vol.shape.slice(0, 3) };
    throw new Error(`channel ${index} requested from a 3D image`);
  }
  const nt = vol.shape[3]!;
  if (index < 0 || index >= nt)
    throw new Error(`channel ${index} requested from a 4D image with ${nt} volumes`);
  const n = vol.shape[0]! * vol.shape[1]! * vol.shape[2]!;
  const per = vol.datatype === 'rgb24' ? 3 : 1;
  return {
    ...vol,
    shape: vol.shape.slice(0, 3),
    data: vol.data.slice(index * n * per, (index + 1) * n * per),
  };
}

export interface CaseVolumes {
  channels: Volume[];
  label?: Volume;
}

/** Reads a case; a 4D file shared by several channels is read once. */
export async function readCaseVolumes(c: DatasetCase): Promise<CaseVolumes> {
  const files = new Map<string, Promise<Volume>>();
  const read = (p: string): Promise<Volume> => {
    if (!files.has(p)) files.set(p, readImage(p));
    return files.get(p)!;
  };
  const channels: Volume[] = [];
  for (const ch of c.channels) {
    const vol = await read(ch.path);
    channels.push(ch.index === undefined ? vol : channelOf(vol, ch.index));
  }
  return { channels, ...(c.label ? { label: await readImage(c.label) } : {}) };
}
