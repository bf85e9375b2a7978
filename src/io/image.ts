// One entry point for every format: the format is told by the path (a folder is a DICOM series,
// else the extension), and writes go through each writer's atomic temp-file-and-rename.
import fs from 'node:fs';
import { readDicomSeries } from './dicom.js';
import { ImageFormatError } from './errors.js';
import { readNifti, writeNifti } from './nifti.js';
import { readNrrd, writeNrrd } from './nrrd.js';
import type { Volume } from './volume.js';

export type ImageFormat = 'nifti' | 'nifti-gz' | 'nrrd' | 'nhdr' | 'dicom';

/** The format a path names by its extension (case-insensitive), or undefined. */
export function formatOfName(file: string): ImageFormat | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.nii.gz')) return 'nifti-gz';
  if (f.endsWith('.nii')) return 'nifti';
  if (f.endsWith('.nrrd')) return 'nrrd';
  if (f.endsWith('.nhdr')) return 'nhdr';
  if (f.endsWith('.dcm')) return 'dicom';
  return undefined;
}

const KNOWN = '.nii, .nii.gz, .nrrd, .nhdr or a DICOM folder';

/** The format of an existing path: a directory is a DICOM series. */
export async function detectFormat(file: string): Promise<ImageFormat> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new ImageFormatError(file, 'no such file or folder');
  }
  if (stat.isDirectory()) return 'dicom';
  const f = formatOfName(file);
  if (!f) throw new ImageFormatError(file, `unknown image format (expected ${KNOWN})`);
  return f;
}

export async function readImage(file: string): Promise<Volume> {
  const format = await detectFormat(file);
  try {
    switch (format) {
      case 'nifti':
      case 'nifti-gz':
        return await readNifti(file);
      case 'nrrd':
      case 'nhdr':
        return await readNrrd(file);
      case 'dicom':
        return await readDicomSeries((await fs.promises.stat(file)).isDirectory() ? file : [file]);
    }
  } catch (e) {
    throw asFormatError(e, file);
  }
}

export interface WriteImageOptions {
  /** zlib level for compressed outputs (1–9, default 6). */
  level?: number;
}

/** Writes `vol` in the format its extension names (.nii, .nii.gz, .nrrd); atomic. */
export async function writeImage(file: string, vol: Volume, opts: WriteImageOptions = {}): Promise<void> {
  const format = formatOfName(file);
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (stat?.isDirectory()) throw new ImageFormatError(file, 'is a folder; writing DICOM is not supported');
  try {
    switch (format) {
      case 'nifti':
      case 'nifti-gz':
        return await writeNifti(file, vol, { gzip: format === 'nifti-gz', ...opts });
      case 'nrrd':
        return await writeNrrd(file, vol, opts);
      default:
        throw new ImageFormatError(file, `cannot write this format (writable: .nii, .nii.gz, .nrrd)`);
    }
  } catch (e) {
    throw asFormatError(e, file);
  }
}

/** File-system errors (missing file, no permission) become one ImageFormatError with the path. */
function asFormatError(e: unknown, file: string): Error {
  if (e instanceof ImageFormatError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.syscall) {
    return new ImageFormatError(file, `cannot ${err.syscall} (${err.message})`, { cause: e });
  }
  return e instanceof Error ? e : new Error(String(e));
}
