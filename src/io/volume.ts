// The in-memory image every reader returns and every writer takes: voxel values as stored on disk
// plus the geometry needed to put a prediction back exactly where the input was.

import type { ElementArray } from '../common/elementTypes.js';

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

/** The typed array that holds a volume's voxels (one per element type: src/common/elementTypes.ts). */
export type VoxelArray = ElementArray;

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
  /** What the reader knew beyond the fields above; writers fall back to defaults without it. */
  header?: VolumeHeader;
}

/** The NIfTI qform parameters exactly as stored, so that an unchanged volume is rewritten bit for bit. */
export interface NiftiQform {
  /** quatern_b, quatern_c, quatern_d. */
  quatern: [number, number, number];
  /** qoffset_x, qoffset_y, qoffset_z. */
  offset: [number, number, number];
  /** pixdim[0]: -1 or 1. */
  qfac: number;
  /** pixdim[1..3]. */
  pixdim: [number, number, number];
}

/** Format details a reader keeps so that a writer can reproduce them; every field is optional. */
export interface VolumeHeader {
  /** The file format the volume was read from. */
  format?: 'nifti1' | 'nifti2' | 'nrrd' | 'dicom';
  /** NIfTI qform_code / sform_code (0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI, 5 template). */
  qformCode?: number;
  sformCode?: number;
  /** The qform as stored (used again on write while `affine` is unchanged). */
  qform?: NiftiQform;
  /** The sform rows srow_x, srow_y, srow_z as stored (3×4). */
  sform?: number[][];
  /** NIfTI pixdim[4..7] (time step and beyond). */
  pixdimExtra?: number[];
  /** NIfTI xyzt_units. */
  xyztUnits?: number;
  /** NIfTI intent_code, intent_name, intent_p1..3. */
  intentCode?: number;
  intentName?: string;
  intentParams?: number[];
  /** NIfTI descrip (at most 79 bytes are written). */
  description?: string;
}
