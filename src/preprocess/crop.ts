// Cropping to the non-zero region (nnU-Net's first preprocessing step): MRI and many CT volumes
// carry large empty borders that cost compute and distort intensity statistics.
import { tidy, noGrad, F, type Tensor } from '../engine/index.js';

/** Per spatial axis [start, end) of a crop, in array order (z, y, x). */
export type BBox = [number, number][];

/** Bounding box of voxels where any channel is non-zero; the whole image when all are zero. */
export function nonzeroBBox(image: Tensor): BBox {
  return tidy(() =>
    noGrad(() => {
      const mask = image.ne(0).to('uint8').amax([0]);
      return boxOf(mask);
    }),
  );
}

/** Bounding box of the true voxels of a boolean mask [...spatial]. */
export function boxOf(mask: Tensor): BBox {
  return tidy(() => {
    const nd = mask.ndim;
    const box: BBox = [];
    for (let d = 0; d < nd; d++) {
      const others = Array.from({ length: nd }, (_, i) => i).filter((i) => i !== d);
      const along = (
        others.length ? mask.to('uint8').amax(others) : mask.to('uint8')
      ).toArray() as Uint8Array;
      let lo = along.indexOf(1);
      let hi = along.lastIndexOf(1) + 1;
      if (lo < 0) {
        lo = 0;
        hi = along.length;
      }
      box.push([lo, hi]);
    }
    return box;
  });
}

/** The crop [C, ...box] of image [C, ...spatial] (a copy). */
export function cropTo(image: Tensor, box: BBox): Tensor {
  return tidy(() => box.reduce((t, [lo, hi], d) => t.narrow(d + 1, lo, hi - lo), image).contiguous());
}

/** Inverse of cropTo: places x [C, ...box] into a `fill`-valued volume of the original spatial shape. */
export function uncrop(x: Tensor, box: BBox, shape: number[], fill = 0): Tensor {
  return tidy(() => {
    const p: number[] = [];
    for (let d = box.length - 1; d >= 0; d--) p.push(box[d]![0], shape[d]! - box[d]![1]);
    // F.pad lists the last axis first
    return F.pad(x, p, 'constant', fill);
  });
}
