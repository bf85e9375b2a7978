// Voxel types: byte sizes, typed-array constructors, the NIfTI datatype codes and byte swapping.
import { ELEMENT_TYPES, elementTypeOfArray, type ArrayConstructorOf } from '../common/elementTypes.js';
import type { VoxelArray, VoxelType } from './volume.js';

const VOXEL_TYPES = [
  'uint8',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
] as const;

/** Bytes per voxel (rgb24: 3 bytes, stored as 3 uint8 elements). */
export const voxelBytes: Record<VoxelType, number> = {
  ...(Object.fromEntries(VOXEL_TYPES.map((t) => [t, ELEMENT_TYPES[t].bytes])) as Record<
    Exclude<VoxelType, 'rgb24'>,
    number
  >),
  rgb24: 3,
};

/** Array elements per voxel: 3 for rgb24, else 1. */
export function elementsPerVoxel(t: VoxelType): number {
  return t === 'rgb24' ? 3 : 1;
}

/** Bytes per array element (rgb24 is an array of uint8). */
export function elementBytes(t: VoxelType): number {
  return t === 'rgb24' ? 1 : voxelBytes[t];
}

const ctors = (t: VoxelType): ArrayConstructorOf => (t === 'rgb24' ? Uint8Array : ELEMENT_TYPES[t].array);

/** A typed array of `voxels` voxels of type t over `buffer` (which must be aligned for t). */
export function viewAs(
  t: VoxelType,
  buffer: ArrayBufferLike,
  byteOffset: number,
  voxels: number,
): VoxelArray {
  const Ctor = ctors(t);
  return new Ctor(buffer, byteOffset, voxels * elementsPerVoxel(t));
}

/** A zeroed typed array of `voxels` voxels of type t. */
export function allocate(t: VoxelType, voxels: number): VoxelArray {
  const Ctor = ctors(t);
  return new Ctor(voxels * elementsPerVoxel(t));
}

/** The voxel type of a typed array (Uint8Array is taken as uint8, never rgb24). */
export function typeOfArray(a: VoxelArray): VoxelType {
  return (elementTypeOfArray(a) ?? 'float64') as VoxelType;
}

/** Whether `a` is the array type that stores t. */
export function arrayMatches(t: VoxelType, a: VoxelArray): boolean {
  return a instanceof ctors(t);
}

export const isIntegerType = (t: VoxelType): boolean => t !== 'float32' && t !== 'float64' && t !== 'rgb24';

/** The representable range of an integer type (as numbers; 64-bit limits are approximate). */
export function integerRange(t: VoxelType): [number, number] {
  switch (t) {
    case 'uint8':
    case 'rgb24':
      return [0, 255];
    case 'int8':
      return [-128, 127];
    case 'int16':
      return [-32768, 32767];
    case 'uint16':
      return [0, 65535];
    case 'int32':
      return [-2147483648, 2147483647];
    case 'uint32':
      return [0, 4294967295];
    case 'int64':
      return [-(2 ** 63), 2 ** 63];
    case 'uint64':
      return [0, 2 ** 64];
    default:
      return [-Infinity, Infinity];
  }
}

/** NIfTI-1/2 datatype codes (nifti1.h). */
export const niftiCodeOf: Record<VoxelType, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  rgb24: 128,
  int8: 256,
  uint16: 512,
  uint32: 768,
  int64: 1024,
  uint64: 1280,
};

const typeOfNiftiCode = new Map<number, VoxelType>(
  Object.entries(niftiCodeOf).map(([t, c]) => [c, t as VoxelType]),
);

/** Codes NIfTI defines that medseg does not handle, for a precise message. */
const unsupportedNiftiCodes: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

/** The voxel type of a NIfTI datatype code, or a description of why it is not supported. */
export function typeOfNifti(code: number): VoxelType | string {
  const t = typeOfNiftiCode.get(code);
  if (t) return t;
  const name = unsupportedNiftiCodes[code];
  return name ? `unsupported datatype ${code} (${name})` : `unknown datatype code ${code}`;
}

/** Reverses the byte order of every `size`-byte element of `bytes` in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = a;
    }
  } else if (size === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      const a = bytes[i]!;
      const b = bytes[i + 1]!;
      bytes[i] = bytes[i + 3]!;
      bytes[i + 1] = bytes[i + 2]!;
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else if (size === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let k = 0; k < 4; k++) {
        const a = bytes[i + k]!;
        bytes[i + k] = bytes[i + 7 - k]!;
        bytes[i + 7 - k] = a;
      }
    }
  }
}

/** The bytes of a typed array, as a view (no copy). */
export function bytesOf(a: VoxelArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
