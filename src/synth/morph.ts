// Binary morphology on masks, used to keep nested structures strictly inside their parents (a tumour
// core one voxel inside its oedema) whatever the resolution.

/** Erosion with the 6-neighbourhood; voxels on the volume border count as outside. */
export function erode(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const [nx, ny, nz] = shape as [number, number, number];
  const out = new Uint8Array(mask.length);
  const sy = nx;
  const sz = nx * ny;
  for (let k = 1; k < nz - 1; k++) {
    for (let j = 1; j < ny - 1; j++) {
      const base = nx * (j + ny * k);
      for (let i = 1; i < nx - 1; i++) {
        const p = base + i;
        if (
          mask[p] &&
          mask[p - 1] &&
          mask[p + 1] &&
          mask[p - sy] &&
          mask[p + sy] &&
          mask[p - sz] &&
          mask[p + sz]
        ) {
          out[p] = 1;
        }
      }
    }
  }
  return out;
}

export function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}
