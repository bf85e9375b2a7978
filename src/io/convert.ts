// `medseg convert`: read any supported format, optionally change the stored type, write another.
// The output may never be the input (a failed conversion must not destroy the only copy).
import fs from 'node:fs';
import path from 'node:path';
import { castVolume, toLabelVolume } from './cast.js';
import { ImageFormatError } from './errors.js';
import { readImage, writeImage } from './image.js';
import type { VoxelType } from './volume.js';

export interface ConvertOptions {
  /** Store as this type (by real values); default: keep the stored type and scaling. */
  datatype?: VoxelType;
  /** Store as the smallest integer type that holds the (integer) values. */
  label?: boolean;
  /** zlib level for compressed outputs. */
  level?: number;
}

export interface ConvertResult {
  output: string;
  shape: number[];
  datatype: VoxelType;
}

/** True when both paths name the same file or folder (also through links). */
async function samePath(a: string, b: string): Promise<boolean> {
  if (path.resolve(a) === path.resolve(b)) return true;
  const [sa, sb] = await Promise.all([
    fs.promises.stat(a).catch(() => undefined),
    fs.promises.stat(b).catch(() => undefined),
  ]);
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

export async function convertImage(
  inPath: string,
  outPath: string,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  if (await samePath(inPath, outPath)) {
    throw new ImageFormatError(outPath, 'output is the input file; refusing to overwrite it');
  }
  if (opts.datatype && opts.label)
    throw new ImageFormatError(outPath, 'give either a datatype or label, not both');
  let vol = await readImage(inPath);
  if (opts.label) vol = toLabelVolume(vol, inPath);
  else if (opts.datatype) vol = castVolume(vol, opts.datatype, inPath);
  await writeImage(outPath, vol, opts.level !== undefined ? { level: opts.level } : {});
  return { output: path.resolve(outPath), shape: vol.shape, datatype: vol.datatype };
}
