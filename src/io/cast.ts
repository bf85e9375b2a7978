// Changing the stored type of a volume by its real (scaled) values: to a float type always, to an
// integer type only when every value is an integer in range, since anything else would silently
// change the image.
import { allocate, integerRange } from './datatype.js';
import { ImageFormatError } from './errors.js';
import { scaledValues, volumeStats } from './values.js';
import type { Volume, VoxelType } from './volume.js';

/** `vol` stored as `datatype` with no scaling (or `vol` itself when it already is that type). */
export function castVolume(vol: Volume, datatype: VoxelType, file = '<volume>'): Volume {
  if (datatype === vol.datatype) return vol;
  if (datatype === 'rgb24' || vol.datatype === 'rgb24') {
    throw new ImageFormatError(file, `cannot convert ${vol.datatype} to ${datatype}`);
  }
  const real = scaledValues(vol, datatype === 'float32' ? 'float32' : 'float64');
  if (datatype === 'float32' || datatype === 'float64') {
    const data = datatype === 'float32' ? real : Float64Array.from(real);
    return { ...vol, data, datatype, sclSlope: 1, sclInter: 0 };
  }
  const [lo, hi] = integerRange(datatype);
  const data = allocate(datatype, real.length);
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  for (let i = 0; i < real.length; i++) {
    const v = real[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new ImageFormatError(
        file,
        `value ${v} at element ${i} does not fit ${datatype} exactly (integers in [${lo}, ${hi}]); choose a float type`,
      );
    }
    if (big) (data as BigInt64Array)[i] = BigInt(v);
    else (data as Int32Array)[i] = v;
  }
  return { ...vol, data, datatype, sclSlope: 1, sclInter: 0 };
}

/** The smallest integer type that holds every real value of a label volume (uint8 first). */
export function labelType(vol: Volume, file = '<volume>'): VoxelType {
  if (vol.datatype === 'uint8' && vol.sclSlope === 1 && vol.sclInter === 0) return 'uint8';
  const { min, max } = volumeStats(vol);
  const fits = (t: VoxelType): boolean => min >= integerRange(t)[0] && max <= integerRange(t)[1];
  const t = (['uint8', 'int16', 'uint16', 'int32'] as VoxelType[]).find(fits);
  if (!t || !Number.isFinite(min))
    throw new ImageFormatError(file, `label values ${min}..${max} do not fit int32`);
  return t;
}

/** A label volume stored as integers (the smallest type that fits); throws if a value is not an integer. */
export function toLabelVolume(vol: Volume, file = '<volume>'): Volume {
  return castVolume(vol, labelType(vol, file), file);
}
