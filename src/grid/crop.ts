// Cropping to the non-zero region (nnU-Net's first preprocessing step): MRI and many CT volumes
// carry large empty borders that cost compute and distort intensity statistics.
import { tidy, noGrad, F, cat, Tensor } from '../engine/index.js';
import { majorityOrZero, type CropRule } from '../common/background.js';

/** Per spatial axis [start, end) of a crop, in array order (z, y, x). */
export type BBox = [number, number][];

/** Bounding box of voxels where any channel is non-zero; the whole image when all are zero. */
export function nonzeroBBox(image: Tensor): BBox {
  return cropBox(image, 'nonzero').box;
}

/**
 * Per channel, the value a voxel has where nothing was imaged (common/background.ts): 0 under the
 * nonzero rule; under the background rule the value of most of the border, else 0.
 */
export function backgroundValues(image: Tensor, rule: CropRule): number[] {
  const C = image.shape[0]!;
  if (rule === 'nonzero') return new Array<number>(C).fill(0);
  return tidy(() =>
    noGrad(() => {
      const faces: Tensor[] = [];
      // an axis of 1 or 2 voxels (a 2D image stored as 3D) has no inside: its faces are not border
      image.shape.slice(1).forEach((n, d) => {
        if (n > 2) for (const at of [0, n - 1]) faces.push(image.narrow(d + 1, at, 1).reshape(C, -1));
      });
      if (!faces.length) return new Array<number>(C).fill(0);
      // in the image's own dtype, so that the values compare exactly with its voxels
      const border = cat(faces, 1).contiguous();
      const m = border.shape[1]!;
      const values = border.toArray() as unknown as ArrayLike<number> & {
        subarray(a: number, b: number): ArrayLike<number>;
      };
      return Array.from({ length: C }, (_, c) => Number(majorityOrZero(values.subarray(c * m, (c + 1) * m))));
    }),
  );
}

/** bool [...spatial]: voxels where any channel of image [C, ...spatial] differs from its background. */
export function foregroundMask(image: Tensor, background: number[]): Tensor {
  return tidy(() =>
    noGrad(() => {
      if (background.every((b) => b === 0)) return image.ne(0).to('uint8').amax([0]).to('bool');
      const shape = [background.length, ...image.shape.slice(1).map(() => 1)];
      const b = Tensor.fromArray(Float64Array.from(background), shape, 'float64').to(image.dtype);
      return image.ne(b).to('uint8').amax([0]).to('bool');
    }),
  );
}

/** The crop box of image [C, ...spatial] under `rule`, and the per-channel background it used. */
export function cropBox(image: Tensor, rule: CropRule): { box: BBox; background: number[] } {
  const background = backgroundValues(image, rule);
  return { box: tidy(() => boxOf(foregroundMask(image, background))), background };
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
