// What `medseg inspect` reports: header geometry, stored type and statistics of the real values.
import path from 'node:path';
import { detectFormat, readImage, type ImageFormat } from './image.js';
import { axisCodes } from './orientation.js';
import { volumeStats } from './values.js';
import type { VoxelType } from './volume.js';

export interface ImageInfo {
  path: string;
  format: ImageFormat;
  /** NIfTI-1 / NIfTI-2 when known. */
  version?: string;
  shape: number[];
  spacing: [number, number, number];
  affine: number[][];
  /** Nearest anatomical direction of each voxel axis, e.g. 'LPS'. */
  orientation: string;
  datatype: VoxelType;
  sclSlope: number;
  sclInter: number;
  qformCode?: number;
  sformCode?: number;
  description?: string;
  /** Of the real (scaled) values over all voxels, NaN left out. */
  min: number;
  max: number;
  mean: number;
  nanCount: number;
}

export async function inspectImage(file: string): Promise<ImageInfo> {
  const format = await detectFormat(file);
  const vol = await readImage(file);
  const stats = volumeStats(vol);
  const h = vol.header ?? {};
  return {
    path: path.resolve(file),
    format,
    ...(h.format === 'nifti1' || h.format === 'nifti2'
      ? { version: h.format === 'nifti1' ? 'NIfTI-1' : 'NIfTI-2' }
      : {}),
    shape: vol.shape,
    spacing: vol.spacing,
    affine: vol.affine,
    orientation: axisCodes(vol.affine),
    datatype: vol.datatype,
    sclSlope: vol.sclSlope,
    sclInter: vol.sclInter,
    ...(h.qformCode !== undefined ? { qformCode: h.qformCode } : {}),
    ...(h.sformCode !== undefined ? { sformCode: h.sformCode } : {}),
    ...(h.description ? { description: h.description } : {}),
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    nanCount: stats.nanCount,
  };
}

/** The machine-readable line of `inspect --json` (NaN and infinities become null). */
export function inspectJson(info: ImageInfo): string {
  const { shape, spacing, affine, datatype, min, max, mean } = info;
  return JSON.stringify({ shape, spacing, affine, datatype, min, max, mean });
}

/** A readable multi-line summary. */
export function inspectText(info: ImageInfo): string {
  // Six significant digits, without trailing zeros (Number() drops them, exponent included).
  const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
  const scaling =
    info.sclSlope === 1 && info.sclInter === 0 ? 'none' : `× ${num(info.sclSlope)} + ${num(info.sclInter)}`;
  const fixed = (v: number): string => (Math.abs(v) < 5e-5 ? 0 : v).toFixed(4).padStart(11);
  const rows = info.affine.slice(0, 3).map((r) => r.map(fixed).join(' '));
  const lines = [
    ['file', info.path],
    ['format', info.version ? `${info.version}${info.format === 'nifti-gz' ? ' (gzip)' : ''}` : info.format],
    ['shape', info.shape.join(' × ')],
    ['datatype', info.datatype],
    ['scaling', scaling],
    ['spacing', `${info.spacing.map(num).join(' × ')} mm`],
    ['orientation', info.orientation],
    ['affine', rows[0]!],
    ['', rows[1]!],
    ['', rows[2]!],
    ...(info.qformCode !== undefined ? [['qform/sform', `codes ${info.qformCode} / ${info.sformCode}`]] : []),
    ...(info.description ? [['description', info.description]] : []),
    ['values', `min ${num(info.min)}  max ${num(info.max)}  mean ${num(info.mean)}`],
    ...(info.nanCount ? [['NaN voxels', String(info.nanCount)]] : []),
  ];
  return lines.map(([k, v]) => `${k!.padEnd(12)}${v}`).join('\n');
}
