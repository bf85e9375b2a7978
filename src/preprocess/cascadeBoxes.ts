// Where the crop variant of the cascade looks: one box per connected component (26-connectivity) of
// stage 1's foreground, grown by a margin in mm and to at least the size of one stage-2 patch (so the
// network sees real context, not padding), clipped to the image; boxes that overlap are merged into
// their union until none do, so that every voxel is predicted at most once.
import { labelComponents, boundingBox, type LabelArray } from '../labelmap/components.js';
import { tidy, type Tensor } from '../engine/index.js';
import type { BBox } from '../grid/crop.js';

export interface CascadeBoxOptions {
  /** Spacing of the label map, (z, y, x) mm. */
  spacing: number[];
  marginMm: number;
  /** Smallest box, (z, y, x) voxels of the label map. */
  minSize: number[];
}

const overlaps = (a: BBox, b: BBox) => a.every(([lo, hi], d) => lo < b[d]![1] && b[d]![0] < hi);

/** Boxes ([start, stop) per axis, z y x) around the foreground (nonzero) of `labels` [z, y, x]. */
export function cascadeBoxes(labels: LabelArray, shape: number[], o: CascadeBoxOptions): BBox[] {
  const comps = labelComponents(labels, shape, { connectivity: 26 });
  let boxes: BBox[] = [];
  for (let id = 1; id <= comps.count; id++) {
    const { start, stop } = boundingBox(comps, id);
    boxes.push(
      shape.map((n, d) => {
        const m = Math.ceil(o.marginMm / o.spacing[d]!);
        let lo = Math.max(0, start[d]! - m);
        let hi = Math.min(n, stop[d]! + m);
        const want = Math.min(n, o.minSize[d]!);
        if (hi - lo < want) {
          // grow around the centre, then shift back inside the image
          const c = (lo + hi) / 2;
          lo = Math.max(0, Math.round(c - want / 2));
          hi = Math.min(n, lo + want);
          lo = hi - want;
        }
        return [lo, hi] as [number, number];
      }),
    );
  }
  for (let merged = true; merged;) {
    merged = false;
    outer: for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        if (overlaps(boxes[i]!, boxes[j]!)) {
          const u = boxes[i]!.map(([lo, hi], d) => [
            Math.min(lo, boxes[j]![d]![0]),
            Math.max(hi, boxes[j]![d]![1]),
          ]);
          boxes = [...boxes.filter((_, k) => k !== i && k !== j), u as BBox];
          merged = true;
          break outer;
        }
      }
    }
  }
  return boxes.sort((a, b) => a[0]![0] - b[0]![0] || a[1]![0] - b[1]![0] || a[2]![0] - b[2]![0]);
}

/** The smallest box of the crop variant in the voxels of an image: one stage-2 patch in mm. */
export function minimumBoxSize(patch: number[], patchSpacing: number[], imageSpacing: number[]): number[] {
  return patch.map((p, d) => Math.ceil((p * patchSpacing[d]!) / imageSpacing[d]!));
}

/** The crop variant's boxes for one image: around stage 1's foreground (class indices [z, y, x]). */
export function cropBoxes(
  config: { patch: number[]; spacing: number[]; cascade?: { marginMm?: number } },
  stage1: Tensor,
  spacing: number[],
): BBox[] {
  const fg = tidy(() => stage1.ne(0).to('uint8').contiguous().toArray() as Uint8Array);
  return cascadeBoxes(fg, [...stage1.shape], {
    spacing,
    marginMm: config.cascade?.marginMm ?? 0,
    minSize: minimumBoxSize(config.patch, config.spacing, spacing),
  });
}
