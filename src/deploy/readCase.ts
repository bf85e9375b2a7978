// One prediction case's channels read into one channel-first float32 array [C, z, y, x] (NIfTI's
// x-fastest order is C order of [z, y, x], so each channel is copied as it is, scaled to real values).
import { readImage } from '../io/image.js';
import { scaledValues } from '../io/values.js';
import type { Volume } from '../io/volume.js';
import { channelOf } from '../dataset/volumes.js';
import type { InputCase } from '../infer/inputs.js';
import type { ChannelVolume } from './arrays.js';

export interface ReadCase {
  image: ChannelVolume;
  /** Spacing (z, y, x) mm. */
  spacing: number[];
  /** Channel 0 as read: the geometry the label map is written in. */
  like: Volume;
}

export async function readCase(c: InputCase, channels: number): Promise<ReadCase> {
  const vols: Volume[] = [];
  for (const f of c.files) {
    const v = await readImage(f);
    const nt = v.shape.length > 3 ? v.shape[3]! : 1;
    for (let i = 0; i < nt; i++) vols.push(nt > 1 ? channelOf(v, i) : v);
  }
  if (vols.length !== channels)
    throw new Error(`${c.files.join(', ')}: ${vols.length} channel(s) given, the model expects ${channels}`);
  const v0 = vols[0]!;
  const shape = [v0.shape[2] ?? 1, v0.shape[1]!, v0.shape[0]!];
  const n = shape[0]! * shape[1]! * shape[2]!;
  const data = new Float32Array(n * channels);
  vols.forEach((v, i) => {
    const s = [v.shape[2] ?? 1, v.shape[1]!, v.shape[0]!];
    if (s.join('x') !== shape.join('x'))
      throw new Error(
        `${c.files[Math.min(i, c.files.length - 1)]}: channel ${i} has shape ${s.join('x')}, channel 0 has ${shape.join('x')}`,
      );
    data.set(scaledValues(v, 'float32') as Float32Array, i * n);
  });
  return {
    image: { data, channels, shape },
    spacing: [v0.spacing[2], v0.spacing[1], v0.spacing[0]],
    like: v0,
  };
}
