// Geometry comparisons for the dataset check. Two files of one case must put every voxel at the same
// place: same grid size, and affines that agree up to rounding in the headers (float32 storage,
// different converters), which is what the tolerances allow.
import { median } from '../common/stats.js';

export interface GeometryTolerance {
  /** On the 3×3 part, relative to the voxel size along that column. */
  relative: number;
  /** On the origin, in mm. */
  mm: number;
}

export const defaultTolerance: GeometryTolerance = { relative: 1e-3, mm: 1e-2 };

/** Why two affines differ beyond the tolerance, or undefined when they agree. */
export function affineMismatch(
  a: number[][],
  b: number[][],
  tol: GeometryTolerance = defaultTolerance,
): string | undefined {
  let worstRel = 0;
  let worstMm = 0;
  for (let j = 0; j < 3; j++) {
    const scale = Math.max(colNorm(a, j), colNorm(b, j), 1e-12);
    for (let i = 0; i < 3; i++) worstRel = Math.max(worstRel, Math.abs(a[i]![j]! - b[i]![j]!) / scale);
  }
  for (let i = 0; i < 3; i++) worstMm = Math.max(worstMm, Math.abs(a[i]![3]! - b[i]![3]!));
  // NaN (a broken header) must count as a mismatch, hence the negated comparisons.
  const parts: string[] = [];
  if (!(worstRel <= tol.relative)) parts.push(`axes differ by ${fmt(worstRel * 100)}% of a voxel size`);
  if (!(worstMm <= tol.mm)) parts.push(`origins differ by ${fmt(worstMm)} mm`);
  return parts.length ? parts.join(', ') : undefined;
}

function colNorm(a: number[][], j: number): number {
  return Math.hypot(a[0]![j]!, a[1]![j]!, a[2]![j]!);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
}

/** Largest over smallest voxel size. */
export function anisotropy(spacing: readonly number[]): number {
  return Math.max(...spacing) / Math.min(...spacing);
}

/** Per-axis median spacing of a set of cases. */
export function medianSpacing(spacings: readonly (readonly number[])[]): [number, number, number] {
  return [0, 1, 2].map((ax) => median(spacings.map((s) => s[ax]!))) as [number, number, number];
}

export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}

export function formatSpacing(spacing: readonly number[]): string {
  return spacing.map((s) => String(Number(s.toPrecision(4)))).join('×') + ' mm';
}
