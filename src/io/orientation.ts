// Voxel axis orientation: the nearest anatomical axis code of each voxel axis ('RAS', 'LPS', …) and
// reorienting a volume by permuting/flipping its axes, with the affine adjusted so that every voxel
// keeps its world position exactly.
import { matmul4, spacingOf, type Mat4 } from './affine.js';
import { elementsPerVoxel } from './datatype.js';
import type { Volume, VoxelArray } from './volume.js';

const LETTERS = [
  ['R', 'L'],
  ['A', 'P'],
  ['S', 'I'],
];

/** For each voxel axis, the world axis its column points along most (each world axis used once). */
export function axisCodes(affine: Mat4): string {
  const pairs: { r: number; c: number; w: number }[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) pairs.push({ r, c, w: Math.abs(affine[r]![c]!) });
  pairs.sort((a, b) => b.w - a.w);
  const codes = ['', '', ''];
  const usedRow = new Set<number>();
  for (const { r, c } of pairs) {
    if (codes[c] || usedRow.has(r)) continue;
    codes[c] = LETTERS[r]![affine[r]![c]! >= 0 ? 0 : 1]!;
    usedRow.add(r);
  }
  return codes.join('');
}

/**
 * Rearranges axes: output axis k is input axis order[k], reversed where flip[k]. Works for 3D and 4D
 * shapes and for several elements per voxel (`group`, e.g. 3 for rgb24).
 */
export function permuteAxes<T extends VoxelArray>(
  data: T,
  shape: readonly number[],
  order: readonly number[],
  flip: readonly boolean[] = [],
  group = 1,
): { data: T; shape: number[] } {
  const n = [...shape, 1, 1, 1, 1].slice(0, 4);
  const ord = [...order, ...[0, 1, 2, 3].filter((a) => !order.includes(a))].slice(0, 4);
  const inStride = [1, n[0]!, n[0]! * n[1]!, n[0]! * n[1]! * n[2]!];
  const outShape = ord.map((a) => n[a]!);
  // Per output axis: the input stride to step by and the start offset (last index when flipped).
  const step = ord.map((a, k) => (flip[k] ? -inStride[a]! : inStride[a]!));
  const start = ord.reduce((s, a, k) => s + (flip[k] ? (n[a]! - 1) * inStride[a]! : 0), 0);
  const out = new (data.constructor as new (len: number) => T)(data.length);
  let o = 0;
  for (let l = 0, p3 = start; l < outShape[3]!; l++, p3 += step[3]!) {
    for (let k = 0, p2 = p3; k < outShape[2]!; k++, p2 += step[2]!) {
      for (let j = 0, p1 = p2; j < outShape[1]!; j++, p1 += step[1]!) {
        for (let i = 0, p0 = p1; i < outShape[0]!; i++, p0 += step[0]!) {
          if (group === 1) out[o++] = data[p0]!;
          else for (let g = 0; g < group; g++) out[o++] = data[p0 * group + g]!;
        }
      }
    }
  }
  return { data: out, shape: outShape.slice(0, shape.length) };
}

/** The volume with its first three axes permuted/flipped to the nearest of `target` (e.g. 'RAS'). */
export function reorient(vol: Volume, target: string): Volume {
  const codes = axisCodes(vol.affine);
  const order: number[] = [];
  const flip: boolean[] = [];
  for (const letter of target.toUpperCase()) {
    const w = LETTERS.findIndex((pair) => pair.includes(letter));
    if (w < 0) throw new Error(`bad orientation code ${target}`);
    const c = [...codes].findIndex((x) => LETTERS[w]!.includes(x));
    order.push(c);
    flip.push(codes[c] !== letter);
  }
  if (new Set(order).size !== 3) throw new Error(`bad orientation code ${target}`);
  if (order.every((a, k) => a === k) && !flip.some(Boolean)) return vol;
  const { data, shape } = permuteAxes(vol.data, vol.shape, order, flip, elementsPerVoxel(vol.datatype));
  // old index = M · new index: column k of M is ±e_order[k], shifted by n−1 where flipped.
  const m: Mat4 = [0, 1, 2, 3].map((r) => [0, 0, 0, r === 3 ? 1 : 0]);
  order.forEach((a, k) => {
    m[a]![k] = flip[k] ? -1 : 1;
    if (flip[k]) m[a]![3] = vol.shape[a]! - 1;
  });
  const affine = matmul4(vol.affine, m);
  return { ...vol, data, shape, affine, spacing: spacingOf(affine) };
}
