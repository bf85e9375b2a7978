// 4×4 affine helpers: spacing from column norms, the NIfTI quaternion (qform) in both directions,
// and the LPS ↔ RAS flip that DICOM and NRRD need.
import type { NiftiQform } from './volume.js';

export type Mat4 = number[][];

export function identity4(): Mat4 {
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => (r === c ? 1 : 0)));
}

export function matmul4(a: Mat4, b: Mat4): Mat4 {
  return a.map((row) => [0, 1, 2, 3].map((c) => row.reduce((s, v, k) => s + v * b[k]![c]!, 0)));
}

/** The norms of the first three columns: the voxel size along i, j, k. */
export function spacingOf(affine: Mat4): [number, number, number] {
  const n = (c: number): number => Math.hypot(affine[0]![c]!, affine[1]![c]!, affine[2]![c]!);
  return [n(0), n(1), n(2)];
}

export function det3(m: Mat4): number {
  const [a, b, c] = [m[0]!, m[1]!, m[2]!];
  return (
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)
  );
}

export const allFinite = (m: Mat4): boolean => m.every((row) => row.every(Number.isFinite));

/** Largest absolute element difference. */
export function maxAbsDiff(a: Mat4, b: Mat4): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r]![c]! - b[r]![c]!));
  return d;
}

export const affinesIdentical = (a: Mat4, b: Mat4): boolean => maxAbsDiff(a, b) === 0;

/** Negates the x and y rows: LPS (DICOM, most NRRD) ↔ RAS (NIfTI). */
export function flipXY(m: Mat4): Mat4 {
  return m.map((row, r) => (r < 2 ? row.map((v) => -v) : [...row]));
}

/**
 * The qform affine (NIfTI method 2): rotation from the quaternion (b, c, d; a = √(1 − b² − c² − d²)),
 * scaled by pixdim with qfac on the third column, plus qoffset.
 */
export function qformToAffine(q: NiftiQform): Mat4 {
  let [b, c, d] = q.quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Not a unit quaternion's (b, c, d): nifti1_io normalises them and takes a 180° rotation.
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  // Spacing must be positive; a zero would make the affine singular, so it counts as 1 (as nifti1_io).
  const px = q.pixdim.map((v) => (Math.abs(v) > 0 ? Math.abs(v) : 1));
  const scale = [px[0]!, px[1]!, (q.qfac < 0 ? -1 : 1) * px[2]!];
  return [
    [...r[0]!.map((v, k) => v * scale[k]!), q.offset[0]],
    [...r[1]!.map((v, k) => v * scale[k]!), q.offset[1]],
    [...r[2]!.map((v, k) => v * scale[k]!), q.offset[2]],
    [0, 0, 0, 1],
  ];
}

/**
 * The qform nearest an affine: column norms as pixdim, a negative determinant as qfac = −1, and the
 * orthonormal polar factor of the remaining matrix (shear dropped) as the quaternion.
 */
export function affineToQform(affine: Mat4): NiftiQform {
  const zooms = spacingOf(affine);
  let m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r]![c]! / (zooms[c]! || 1)));
  let qfac = 1;
  if (det3(m) < 0) {
    qfac = -1;
    m = m.map((row) => [row[0]!, row[1]!, -row[2]!]);
  }
  m = nearestRotation(m);
  const [r11, r12, r13] = m[0]!;
  const [r21, r22, r23] = m[1]!;
  const [r31, r32, r33] = m[2]!;
  let a = r11! + r22! + r33! + 1;
  let b: number;
  let c: number;
  let d: number;
  // Take the largest of the four quaternion components from the diagonal to stay well conditioned.
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32! - r23!)) / a;
    c = (0.25 * (r13! - r31!)) / a;
    d = (0.25 * (r21! - r12!)) / a;
  } else {
    const xd = 1 + r11! - (r22! + r33!);
    const yd = 1 + r22! - (r11! + r33!);
    const zd = 1 + r33! - (r11! + r22!);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12! + r21!)) / b;
      d = (0.25 * (r13! + r31!)) / b;
      a = (0.25 * (r32! - r23!)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12! + r21!)) / c;
      d = (0.25 * (r23! + r32!)) / c;
      a = (0.25 * (r13! - r31!)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13! + r31!)) / d;
      c = (0.25 * (r23! + r32!)) / d;
      a = (0.25 * (r21! - r12!)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return {
    quatern: [b, c, d],
    offset: [affine[0]![3]!, affine[1]![3]!, affine[2]![3]!],
    qfac,
    pixdim: zooms,
  };
}

/** Orthonormal polar factor by Newton iteration X ← (X + X⁻ᵀ)/2 (a few steps for near-rotations). */
function nearestRotation(m: number[][]): number[][] {
  let x = m.map((r) => [...r]);
  for (let it = 0; it < 30; it++) {
    const inv = invert3(x);
    if (!inv) break;
    const next = x.map((row, r) => row.map((v, c) => 0.5 * (v + inv[c]![r]!)));
    let delta = 0;
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++) delta = Math.max(delta, Math.abs(next[r]![c]! - x[r]![c]!));
    x = next;
    if (delta < 1e-15) break;
  }
  return x;
}

function invert3(m: number[][]): number[][] | undefined {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  if (!det || !Number.isFinite(det)) return undefined;
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}
