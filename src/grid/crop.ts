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
    const m = mask.to('uint8');
    const nd = m.ndim;
    // per axis: the max over every other axis; for 3D, two passes over the volume (not three)
    const profiles: Uint8Array[] =
      nd === 3
        ? (() => {
            const zy = m.amax([2]);
            const yx = m.amax([0]);
            return [zy.amax([1]), zy.amax([0]), yx.amax([0])].map((t) => t.toArray() as Uint8Array);
          })()
        : Array.from({ length: nd }, (_, d) => {
            const others = Array.from({ length: nd }, (_, i) => i).filter((i) => i !== d);
            return (others.length ? m.amax(others) : m).toArray() as Uint8Array;
          });
    return profiles.map((along) => {
      const lo = along.indexOf(1);
      return lo < 0
        ? ([0, along.length] as [number, number])
        : ([lo, along.lastIndexOf(1) + 1] as [number, number]);
    });
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
