// A DICOM series (a folder of single-frame images) as one Volume. Slices are sorted along the normal
// of ImageOrientationPatient; the affine's third column is the actual step between consecutive
// ImagePositionPatient (so a gantry tilt stays exact), and LPS becomes RAS.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { flipXY, spacingOf, type Mat4 } from './affine.js';
import { allocate, bytesOf, swapBytes } from './datatype.js';
import { ImageFormatError, formatBytes } from './errors.js';
import { decodeJ2K } from './j2k.js';
import { jpegDecoderFor } from './jpeg.js';
import { MAX_VOXELS } from './nifti.js';
import type { Volume, VoxelType } from './volume.js';

const NATIVE = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
]);
const J2K = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']);
const RLE = '1.2.840.10008.1.2.5';
const NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
};

interface Slice {
  file: string;
  ds: DataSet;
  series: string;
  syntax: string;
  position: number[];
  orientation: number[];
  rows: number;
  cols: number;
  pixelSpacing: number[];
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  slope: number;
  inter: number;
}

export interface DicomReadOptions {
  /** SeriesInstanceUID to read when the folder holds several series. */
  seriesUid?: string;
}

/** The numbers of a multi-valued decimal string element (NaN where one does not parse). */
export const floats = (ds: DataSet, tag: string): number[] => {
  const n = ds.numStringValues(tag) ?? 0;
  return Array.from({ length: n }, (_, k) => ds.floatString(tag, k) ?? NaN);
};

/** Reads the DICOM images in `dir` (or the listed files) as one volume. */
export async function readDicomSeries(
  dirOrFiles: string | string[],
  opts: DicomReadOptions = {},
): Promise<Volume> {
  const where = typeof dirOrFiles === 'string' ? dirOrFiles : path.dirname(dirOrFiles[0] ?? '.');
  let files: string[];
  if (typeof dirOrFiles === 'string') {
    const entries = await fs.promises.readdir(dirOrFiles, { withFileTypes: true });
    files = entries
      .filter((e) => e.isFile())
      .map((e) => path.join(dirOrFiles, e.name))
      .sort();
  } else {
    files = dirOrFiles;
  }
  const slices: Slice[] = [];
  for (const f of files) {
    const s = await readSlice(f);
    if (s) slices.push(s);
  }
  if (slices.length === 0) throw new ImageFormatError(where, 'no DICOM images with pixel data found');
  const bySeries = new Map<string, Slice[]>();
  for (const s of slices) bySeries.set(s.series, [...(bySeries.get(s.series) ?? []), s]);
  let chosen: Slice[];
  if (opts.seriesUid !== undefined) {
    chosen = bySeries.get(opts.seriesUid) ?? [];
    if (!chosen.length) throw new ImageFormatError(where, `no images of series ${opts.seriesUid}`);
  } else if (bySeries.size > 1) {
    const list = [...bySeries].map(([uid, s]) => `${uid} (${s.length} images)`).join(', ');
    throw new ImageFormatError(where, `the folder holds ${bySeries.size} series: ${list}; choose one`);
  } else {
    chosen = slices;
  }
  return assemble(chosen, where);
}

async function readSlice(file: string): Promise<Slice | undefined> {
  const bytes = new Uint8Array(await fs.promises.readFile(file));
  // Part 10 files carry "DICM" after a 128-byte preamble; anything else in the folder is not ours.
  if (bytes.length < 132 || Buffer.from(bytes.subarray(128, 132)).toString('latin1') !== 'DICM')
    return undefined;
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { inflater });
  } catch (e) {
    throw new ImageFormatError(file, `cannot parse DICOM (${parserMessage(e)}; truncated or corrupt file?)`);
  }
  if (!ds.elements.x7fe00010) return undefined; // DICOMDIR, structured reports, …
  const need = (name: string, v: number | undefined): number => {
    if (v === undefined || !Number.isFinite(v))
      throw new ImageFormatError(file, `DICOM image without a valid ${name}`);
    return v;
  };
  const samples = ds.uint16('x00280002') ?? 1;
  if (samples !== 1)
    throw new ImageFormatError(file, `${samples} samples per pixel (colour) is not supported`);
  const frames = ds.intString('x00280008') ?? 1;
  if (frames > 1) throw new ImageFormatError(file, `multi-frame images (${frames} frames) are not supported`);
  const position = floats(ds, 'x00200032');
  const orientation = floats(ds, 'x00200037');
  const pixelSpacing = floats(ds, 'x00280030');
  if (position.length !== 3 || !position.every(Number.isFinite))
    throw new ImageFormatError(file, 'no valid ImagePositionPatient');
  if (orientation.length !== 6 || !orientation.every(Number.isFinite)) {
    throw new ImageFormatError(file, 'no valid ImageOrientationPatient');
  }
  if (pixelSpacing.length !== 2 || !pixelSpacing.every((v) => v > 0))
    throw new ImageFormatError(file, 'no valid PixelSpacing');
  const bitsAllocated = need('BitsAllocated', ds.uint16('x00280100'));
  if (![8, 16, 32].includes(bitsAllocated))
    throw new ImageFormatError(file, `BitsAllocated ${bitsAllocated} is not supported`);
  const slope = ds.floatString('x00281053') ?? 1;
  const inter = ds.floatString('x00281052') ?? 0;
  return {
    file,
    ds,
    series: ds.string('x0020000e') ?? '',
    syntax: ds.string('x00020010') ?? '1.2.840.10008.1.2',
    position,
    orientation,
    rows: need('Rows', ds.uint16('x00280010')),
    cols: need('Columns', ds.uint16('x00280011')),
    pixelSpacing,
    bitsAllocated,
    bitsStored: ds.uint16('x00280101') ?? bitsAllocated,
    signed: ds.uint16('x00280103') === 1,
    slope: Number.isFinite(slope) && slope !== 0 ? slope : 1,
    inter: Number.isFinite(inter) ? inter : 0,
  };
}

/**
 * Deflated explicit VR little endian (1.2.840.10008.1.2.1.99): the data set after the file meta
 * information is raw deflate. dicom-parser's built-in path needs a Node Buffer; this works on the
 * Uint8Array we pass and returns the whole file with the data set inflated.
 */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = zlib.inflateRawSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position));
  full.set(inflated, position);
  return full;
}

/** dicom-parser throws Errors, strings, or { exception, dataSet } objects. */
function parserMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  const ex = (e as { exception?: unknown } | null)?.exception;
  return typeof ex === 'string' ? ex : 'unknown parser error';
}

const dot = (a: number[], b: number[]): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
/**
 * Slices in the order the series is stacked: by position along the normal of the orientation
 * (ImageOrientationPatient's row × column). A Segmentation object refers to slices in this order too.
 */
export function sortAlongNormal<T extends { position: number[] }>(slices: T[], orientation: number[]): T[] {
  const normal = cross(orientation.slice(0, 3), orientation.slice(3, 6));
  return [...slices].sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
}

const cross = (a: number[], b: number[]): number[] => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];

async function assemble(slices: Slice[], where: string): Promise<Volume> {
  const first = slices[0]!;
  for (const s of slices) {
    const same =
      s.rows === first.rows &&
      s.cols === first.cols &&
      s.bitsAllocated === first.bitsAllocated &&
      s.signed === first.signed &&
      s.orientation.every((v, k) => Math.abs(v - first.orientation[k]!) < 1e-4) &&
      s.pixelSpacing.every((v, k) => Math.abs(v - first.pixelSpacing[k]!) < 1e-4);
    if (!same) {
      throw new ImageFormatError(
        where,
        `${path.basename(s.file)} differs from ${path.basename(first.file)} in size, type, orientation or spacing`,
      );
    }
  }
  const row = first.orientation.slice(0, 3);
  const col = first.orientation.slice(3, 6);
  const normal = cross(row, col);
  const sorted = sortAlongNormal(slices, first.orientation);
  for (let k = 1; k < sorted.length; k++) {
    if (Math.abs(dot(sorted[k]!.position, normal) - dot(sorted[k - 1]!.position, normal)) < 1e-4) {
      throw new ImageFormatError(
        where,
        `${path.basename(sorted[k]!.file)} and ${path.basename(sorted[k - 1]!.file)} lie at the same position (several acquisitions or echoes in one series?)`,
      );
    }
  }
  const n = sorted.length;
  const p0 = sorted[0]!.position;
  let step: number[];
  if (n === 1) {
    const thick = first.ds.floatString('x00180050') ?? first.ds.floatString('x00180088') ?? 1;
    step = normal.map((v) => v * (thick > 0 ? thick : 1));
  } else {
    const pn = sorted[n - 1]!.position;
    step = pn.map((v, r) => (v - p0[r]!) / (n - 1));
    const tol = Math.max(1e-3, 0.01 * Math.hypot(step[0]!, step[1]!, step[2]!));
    sorted.forEach((s, k) => {
      const off = Math.hypot(...s.position.map((v, r) => v - (p0[r]! + k * step[r]!)));
      if (off > tol) {
        throw new ImageFormatError(
          where,
          `slice positions are not evenly spaced (${path.basename(s.file)} is ${off.toFixed(3)} mm off); an affine cannot describe them`,
        );
      }
    });
  }
  const [dy, dx] = first.pixelSpacing as [number, number];
  const lps: Mat4 = [0, 1, 2].map((r) => [row[r]! * dx, col[r]! * dy, step[r]!, p0[r]!]);
  lps.push([0, 0, 0, 1]);
  const affine = flipXY(lps);
  const voxels = first.rows * first.cols * n;
  if (voxels > MAX_VOXELS)
    throw new ImageFormatError(where, `${voxels} voxels is more than the 2^31 supported`);
  const stored: VoxelType = `${first.signed ? 'int' : 'uint'}${first.bitsAllocated}` as VoxelType;
  const data = allocate(stored, voxels);
  const out = bytesOf(data);
  const frameBytes = first.rows * first.cols * (first.bitsAllocated / 8);
  for (const [k, s] of sorted.entries()) out.set(await pixelBytes(s, frameBytes), k * frameBytes);
  if (first.signed && first.bitsStored < first.bitsAllocated)
    signExtend(data as Int16Array | Int32Array | Int8Array, first.bitsStored);
  const uniform = sorted.every((s) => s.slope === first.slope && s.inter === first.inter);
  const header = { format: 'dicom' as const, description: first.ds.string('x0008103e') ?? '' };
  const base = { shape: [first.cols, first.rows, n], spacing: spacingOf(affine), affine, header };
  if (uniform) return { ...base, data, datatype: stored, sclSlope: first.slope, sclInter: first.inter };
  // Rescale varies per slice: one slope cannot describe it, so store real values.
  const real = new Float32Array(voxels);
  const per = first.rows * first.cols;
  sorted.forEach((s, k) => {
    for (let i = k * per; i < (k + 1) * per; i++) real[i] = (data as Int16Array)[i]! * s.slope + s.inter;
  });
  return { ...base, data: real, datatype: 'float32', sclSlope: 1, sclInter: 0 };
}

function signExtend(a: Int8Array | Int16Array | Int32Array, bits: number): void {
  const shift = 32 - bits;
  for (let i = 0; i < a.length; i++) a[i] = (a[i]! << shift) >> shift;
}

/** One frame's pixel bytes in host order, exactly `bytes` long. */
async function pixelBytes(s: Slice, bytes: number): Promise<Uint8Array> {
  const el = s.ds.elements.x7fe00010!;
  const file = s.file;
  if (NATIVE.has(s.syntax)) {
    if (el.length < bytes || el.dataOffset + bytes > s.ds.byteArray.length) {
      throw new ImageFormatError(
        file,
        `file too short: pixel data holds ${formatBytes(el.length)}, the image needs ${formatBytes(bytes)}`,
      );
    }
    const px = s.ds.byteArray.slice(el.dataOffset, el.dataOffset + bytes);
    if (s.syntax === '1.2.840.10008.1.2.2' && s.bitsAllocated > 8) swapBytes(px, s.bitsAllocated / 8);
    return px;
  }
  if (!el.encapsulatedPixelData || !el.fragments) {
    throw new ImageFormatError(file, `transfer syntax ${s.syntax} but the pixel data is not encapsulated`);
  }
  const frame = dicomParser.readEncapsulatedPixelDataFromFragments(s.ds, el, 0, el.fragments.length);
  if (J2K.has(s.syntax)) {
    let d;
    try {
      d = await decodeJ2K(frame);
    } catch (e) {
      throw new ImageFormatError(file, `cannot decode JPEG 2000 pixel data (${String(e)})`);
    }
    if (d.width !== s.cols || d.height !== s.rows || d.componentCount !== 1 || d.bytes.length !== bytes) {
      throw new ImageFormatError(
        file,
        `JPEG 2000 frame is ${d.width}×${d.height}×${d.componentCount}, the header says ${s.cols}×${s.rows}`,
      );
    }
    return d.bytes;
  }
  const jpeg = jpegDecoderFor(s.syntax);
  if (jpeg) {
    const name = `${s.syntax} (${NAMES[s.syntax]})`;
    if (s.syntax === '1.2.840.10008.1.2.4.51' && s.bitsAllocated > 8) {
      throw new ImageFormatError(
        file,
        `${name} with ${s.bitsStored}-bit samples is not supported (no 12-bit JPEG codec); decompress the series first (e.g. gdcmconv --raw or dcmdjpeg)`,
      );
    }
    let d;
    try {
      d = await jpeg(frame);
    } catch (e) {
      throw new ImageFormatError(file, `cannot decode ${name} pixel data (${(e as Error).message})`);
    }
    if (d.width !== s.cols || d.height !== s.rows || d.componentCount !== 1 || d.bytes.length !== bytes) {
      throw new ImageFormatError(
        file,
        `${name} frame is ${d.width}×${d.height}×${d.componentCount} at ${d.bitsPerSample} bits, the header says ${s.cols}×${s.rows} at ${s.bitsAllocated} bits allocated`,
      );
    }
    return d.bytes;
  }
  if (s.syntax === RLE) return decodeRle(frame, s, bytes);
  const name = NAMES[s.syntax] ?? 'an unknown transfer syntax';
  throw new ImageFormatError(
    file,
    `compressed transfer syntax ${s.syntax} (${name}) is not supported; decompress the series first (e.g. gdcmconv --raw or dcmdjpeg)`,
  );
}

/** DICOM RLE Lossless (PS3.5 annex G): one PackBits segment per byte plane, most significant first. */
function decodeRle(frame: Uint8Array, s: Slice, bytes: number): Uint8Array {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const planes = s.bitsAllocated / 8;
  if (frame.length < 64 || v.getUint32(0, true) !== planes) {
    throw new ImageFormatError(
      s.file,
      `RLE frame has ${frame.length < 64 ? 'no' : v.getUint32(0, true)} segments, expected ${planes}`,
    );
  }
  const pixels = s.rows * s.cols;
  const out = new Uint8Array(bytes);
  for (let p = 0; p < planes; p++) {
    const start = v.getUint32(4 + 4 * p, true);
    const end = p + 1 < planes ? v.getUint32(8 + 4 * p, true) : frame.length;
    // Plane p holds byte (planes-1-p) of each little-endian sample.
    const byte = planes - 1 - p;
    let i = start;
    let o = 0;
    while (o < pixels && i < end) {
      const n = (frame[i++]! << 24) >> 24;
      if (n >= 0) {
        for (let k = 0; k <= n && o < pixels; k++) out[o++ * planes + byte] = frame[i++]!;
      } else if (n !== -128) {
        const x = frame[i++]!;
        for (let k = 0; k < 1 - n && o < pixels; k++) out[o++ * planes + byte] = x;
      }
    }
    if (o < pixels) throw new ImageFormatError(s.file, 'RLE segment ends before the image is complete');
  }
  return out;
}
