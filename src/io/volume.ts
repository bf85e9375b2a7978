// The in-memory image every reader returns and every writer takes: voxel values as stored on disk
// plus the geometry needed to put a prediction back exactly where the input was.

/** numpy-style names of the stored voxel types. */
export type VoxelType =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'rgb24';

export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A 3D or 4D image. Voxel (i, j, k, t) sits at data[i + nx*(j + ny*(k + nz*t))] (x fastest, as NIfTI). */
export interface Volume {
  /** Values as stored (unscaled); for rgb24, 3 interleaved uint8 per voxel. */
  data: VoxelArray;
  /** Dimensions as stored: [nx, ny, nz] or [nx, ny, nz, nt]; a 2D image has nz = 1. */
  shape: number[];
  /** Voxel size in mm along i, j, k (the norm of the affine's columns). */
  spacing: [number, number, number];
  /** 4×4 rows, voxel index (i, j, k, 1) → RAS+ millimetres. */
  affine: number[][];
  datatype: VoxelType;
  /** Real value = stored * sclSlope + sclInter (slope 1, inter 0 when the file has none). */
  sclSlope: number;
  sclInter: number;
}
