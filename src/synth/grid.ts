// The voxel grid of a synthetic case and its link to the anatomy, which is laid out in world millimetres
// (RAS+: +x towards the patient's right, +y anterior, +z superior) around the centre of the field of
// view. Keeping anatomy in mm lets one scene be rendered at any size: tiny, small and realistic differ
// only in the grid.
import type { Volume, VoxelArray, VoxelType } from '../io/volume.js';

export type Vec3 = [number, number, number];

export interface Grid {
  shape: Vec3;
  /** Voxel size in mm. */
  spacing: Vec3;
  /**
   * Direction of each voxel axis in the world (+1 or -1). CT converted from DICOM usually has the x and
   * y axes flipped (LPS storage in an RAS header), which the CT tasks reproduce.
   */
  flip: Vec3;
}

/** World mm of voxel index i along axis a: the grid is centred on the origin. */
export function worldOf(g: Grid, a: 0 | 1 | 2, i: number): number {
  return g.flip[a] * (i - (g.shape[a] - 1) / 2) * g.spacing[a];
}

/** Voxel index range [lo, hi] (clamped) whose centres lie within world [min, max] along axis a. */
export function indexRange(g: Grid, a: 0 | 1 | 2, min: number, max: number): [number, number] {
  const c = (g.shape[a] - 1) / 2;
  let i0 = (g.flip[a] * min) / g.spacing[a] + c;
  let i1 = (g.flip[a] * max) / g.spacing[a] + c;
  if (i0 > i1) [i0, i1] = [i1, i0];
  return [Math.max(0, Math.ceil(i0)), Math.min(g.shape[a] - 1, Math.floor(i1))];
}

/** Field of view in mm. */
export function fov(g: Grid): Vec3 {
  return [0, 1, 2].map((a) => g.shape[a]! * g.spacing[a]!) as Vec3;
}

export function voxels(g: Grid): number {
  return g.shape[0] * g.shape[1] * g.shape[2];
}

export function affineOf(g: Grid): number[][] {
  const rows: number[][] = [];
  for (let a = 0; a < 3; a++) {
    const row = [0, 0, 0, worldOf(g, a as 0 | 1 | 2, 0)];
    row[a] = g.flip[a]! * g.spacing[a]!;
    rows.push(row);
  }
  rows.push([0, 0, 0, 1]);
  return rows;
}

export function volumeOf(g: Grid, data: VoxelArray, datatype: VoxelType): Volume {
  return {
    data,
    shape: [...g.shape],
    spacing: [...g.spacing],
    affine: affineOf(g),
    datatype,
    sclSlope: 1,
    sclInter: 0,
  };
}
