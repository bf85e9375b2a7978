// Small synthetic volumes for the io tests: every voxel type, values that cover each type's range.
import { allocate } from '../../src/io/datatype.js';
import type { Volume, VoxelType } from '../../src/io/volume.js';
import { prng } from './helpers.js';

export const ALL_TYPES: VoxelType[] = [
  'uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'rgb24',
]; // prettier-ignore

/** An oblique affine with a reflection, so that qfac = −1 and nothing is axis-aligned. */
export const OBLIQUE: number[][] = [
  [-0.8, 0.1, 0.05, 12.5],
  [0.1, 0.9, -0.2, -30.25],
  [-0.02, 0.15, 2.5, 7.75],
  [0, 0, 0, 1],
];

/** A volume of type t with pseudo-random values including the type's extremes. */
export function makeVolume(t: VoxelType, shape = [5, 4, 3], seed = 1, affine = OBLIQUE): Volume {
  const rand = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocate(t, n);
  const extremes: Record<VoxelType, number[]> = {
    uint8: [0, 255],
    rgb24: [0, 255],
    int8: [-128, 127],
    int16: [-32768, 32767],
    uint16: [0, 65535],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
    int64: [-(2 ** 62), 2 ** 62],
    uint64: [0, 2 ** 63],
    float32: [-3.4e38, 1.5e-45],
    float64: [-1.7e308, 5e-324],
  };
  const [lo, hi] = extremes[t];
  for (let i = 0; i < data.length; i++) {
    const r = rand();
    let v: number =
      i === 0 ? lo! : i === 1 ? hi! : t.startsWith('float') ? (r - 0.5) * 2000 : Math.floor(r * 200);
    if (t === 'int8' || t === 'int16' || t === 'int32' || t === 'int64') v = i < 2 ? v : v - 100;
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(v);
    else data[i] = v;
  }
  const spacing = [0, 1, 2].map((c) => Math.hypot(affine[0]![c]!, affine[1]![c]!, affine[2]![c]!)) as [
    number,
    number,
    number,
  ];
  return { data, shape, spacing, affine: affine.map((r) => [...r]), datatype: t, sclSlope: 1, sclInter: 0 };
}
