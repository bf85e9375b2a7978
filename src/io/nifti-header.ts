// The NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers: field offsets from nifti1.h / nifti2.h, byte
// order told by sizeof_hdr, decoded into one structure and encoded back from it.
import { ImageFormatError } from './errors.js';

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[0..7]: dim[0] is the number of dimensions. */
  dim: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0..7]: pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z. */
  srow: number[][];
  intentCode: number;
  intentParams: number[];
  intentName: string;
  description: string;
  auxFile: string;
  xyztUnits: number;
  dimInfo: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  sliceDuration: number;
  toffset: number;
  calMax: number;
  calMin: number;
  /** 'n+1' / 'ni1' / 'n+2' / 'ni2'. */
  magic: string;
}

export const NIFTI1_SIZE = 348;
export const NIFTI2_SIZE = 540;
const NIFTI2_MAGIC_TAIL = [0x0d, 0x0a, 0x1a, 0x0a];

/** Which header a file starts with, from sizeof_hdr read in both byte orders. */
export function detectNifti(b: Uint8Array): { version: 1 | 2; littleEndian: boolean } | undefined {
  if (b.length < 4) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const le of [true, false]) {
    const n = v.getInt32(0, le);
    if (n === NIFTI1_SIZE) return { version: 1, littleEndian: le };
    if (n === NIFTI2_SIZE) return { version: 2, littleEndian: le };
  }
  return undefined;
}

function text(b: Uint8Array, at: number, len: number): string {
  const s = b.subarray(at, at + len);
  const end = s.indexOf(0);
  // Latin-1 by hand (no Buffer: the browser page reads headers too)
  let out = '';
  for (const c of s.subarray(0, end < 0 ? len : end)) out += String.fromCharCode(c);
  return out;
}

/** Decodes a header; throws ImageFormatError for a wrong size field, magic or a short buffer. */
export function parseNiftiHeader(b: Uint8Array, file: string): NiftiHeader {
  const kind = detectNifti(b);
  if (!kind) {
    throw new ImageFormatError(
      file,
      'not a NIfTI file (sizeof_hdr is neither 348 nor 540 in either byte order)',
    );
  }
  const size = kind.version === 1 ? NIFTI1_SIZE : NIFTI2_SIZE;
  if (b.length < size) throw new ImageFormatError(file, `file too short for a NIfTI-${kind.version} header`);
  const v = new DataView(b.buffer, b.byteOffset, size);
  const le = kind.littleEndian;
  return kind.version === 1 ? parse1(b, v, le, file) : parse2(b, v, le, file);
}

function parse1(b: Uint8Array, v: DataView, le: boolean, file: string): NiftiHeader {
  const i16 = (o: number): number => v.getInt16(o, le);
  const f32 = (o: number): number => v.getFloat32(o, le);
  const magic = text(b, 344, 4);
  if (magic !== 'n+1' && magic !== 'ni1') {
    throw new ImageFormatError(
      file,
      `bad NIfTI-1 magic ${JSON.stringify(magic)} (expected "n+1"; Analyze 7.5 is not supported)`,
    );
  }
  return {
    version: 1,
    littleEndian: le,
    dim: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => i16(40 + 2 * k)),
    intentParams: [f32(56), f32(60), f32(64)],
    intentCode: i16(68),
    datatype: i16(70),
    bitpix: i16(72),
    sliceStart: i16(74),
    pixdim: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => f32(76 + 4 * k)),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    sliceEnd: i16(120),
    sliceCode: v.getUint8(122),
    xyztUnits: v.getUint8(123),
    calMax: f32(124),
    calMin: f32(128),
    sliceDuration: f32(132),
    toffset: f32(136),
    description: text(b, 148, 80),
    auxFile: text(b, 228, 24),
    qformCode: i16(252),
    sformCode: i16(254),
    quatern: [f32(256), f32(260), f32(264)],
    qoffset: [f32(268), f32(272), f32(276)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))),
    intentName: text(b, 328, 16),
    dimInfo: v.getUint8(39),
    magic,
  };
}

function parse2(b: Uint8Array, v: DataView, le: boolean, file: string): NiftiHeader {
  const i64 = (o: number): number => Number(v.getBigInt64(o, le));
  const i32 = (o: number): number => v.getInt32(o, le);
  const f64 = (o: number): number => v.getFloat64(o, le);
  const magic = text(b, 4, 4);
  const tail = [...b.subarray(8, 12)];
  if ((magic !== 'n+2' && magic !== 'ni2') || tail.some((x, k) => x !== NIFTI2_MAGIC_TAIL[k])) {
    throw new ImageFormatError(
      file,
      `bad NIfTI-2 magic ${JSON.stringify(magic)} (expected "n+2" then \\r\\n\\x1a\\n)`,
    );
  }
  return {
    version: 2,
    littleEndian: le,
    datatype: v.getInt16(12, le),
    bitpix: v.getInt16(14, le),
    dim: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => i64(16 + 8 * k)),
    intentParams: [f64(80), f64(88), f64(96)],
    pixdim: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => f64(104 + 8 * k)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    calMax: f64(192),
    calMin: f64(200),
    sliceDuration: f64(208),
    toffset: f64(216),
    sliceStart: i64(224),
    sliceEnd: i64(232),
    description: text(b, 240, 80),
    auxFile: text(b, 320, 24),
    qformCode: i32(344),
    sformCode: i32(348),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))),
    sliceCode: i32(496),
    xyztUnits: i32(500),
    intentCode: i32(504),
    intentName: text(b, 508, 16),
    dimInfo: v.getUint8(524),
    magic,
  };
}

function putText(b: Uint8Array, at: number, len: number, s: string): void {
  // Room for the terminating NUL; non-Latin-1 characters become '?'.
  const latin1 = s.replace(/[^\x20-\xff]/g, '?');
  const bytes = Uint8Array.from(latin1, (ch) => ch.charCodeAt(0)).subarray(0, len - 1);
  b.set(bytes, at);
}

/** Encodes a header (always in little-endian order), followed by 4 zero extension bytes. */
export function encodeNiftiHeader(h: NiftiHeader): Uint8Array {
  const size = h.version === 1 ? NIFTI1_SIZE : NIFTI2_SIZE;
  const b = new Uint8Array(size + 4);
  const v = new DataView(b.buffer);
  if (h.version === 1) encode1(h, b, v);
  else encode2(h, b, v);
  return b;
}

function encode1(h: NiftiHeader, b: Uint8Array, v: DataView): void {
  const i16 = (o: number, x: number): void => v.setInt16(o, x, true);
  const f32 = (o: number, x: number): void => v.setFloat32(o, x, true);
  v.setInt32(0, NIFTI1_SIZE, true);
  v.setUint8(38, 'r'.charCodeAt(0)); // "regular", as every writer sets it
  v.setUint8(39, h.dimInfo);
  h.dim.forEach((d, k) => i16(40 + 2 * k, d));
  h.intentParams.forEach((p, k) => f32(56 + 4 * k, p));
  i16(68, h.intentCode);
  i16(70, h.datatype);
  i16(72, h.bitpix);
  i16(74, h.sliceStart);
  h.pixdim.forEach((p, k) => f32(76 + 4 * k, p));
  f32(108, h.voxOffset);
  f32(112, h.sclSlope);
  f32(116, h.sclInter);
  i16(120, h.sliceEnd);
  v.setUint8(122, h.sliceCode);
  v.setUint8(123, h.xyztUnits);
  f32(124, h.calMax);
  f32(128, h.calMin);
  f32(132, h.sliceDuration);
  f32(136, h.toffset);
  putText(b, 148, 80, h.description);
  putText(b, 228, 24, h.auxFile);
  i16(252, h.qformCode);
  i16(254, h.sformCode);
  h.quatern.forEach((q, k) => f32(256 + 4 * k, q));
  h.qoffset.forEach((q, k) => f32(268 + 4 * k, q));
  h.srow.forEach((row, r) => row.forEach((x, c) => f32(280 + 16 * r + 4 * c, x)));
  putText(b, 328, 16, h.intentName);
  putText(b, 344, 4, h.magic);
}

function encode2(h: NiftiHeader, b: Uint8Array, v: DataView): void {
  const i64 = (o: number, x: number): void => v.setBigInt64(o, BigInt(Math.trunc(x)), true);
  const i32 = (o: number, x: number): void => v.setInt32(o, x, true);
  const f64 = (o: number, x: number): void => v.setFloat64(o, x, true);
  v.setInt32(0, NIFTI2_SIZE, true);
  putText(b, 4, 4, h.magic);
  b.set(NIFTI2_MAGIC_TAIL, 8);
  v.setInt16(12, h.datatype, true);
  v.setInt16(14, h.bitpix, true);
  h.dim.forEach((d, k) => i64(16 + 8 * k, d));
  h.intentParams.forEach((p, k) => f64(80 + 8 * k, p));
  h.pixdim.forEach((p, k) => f64(104 + 8 * k, p));
  i64(168, h.voxOffset);
  f64(176, h.sclSlope);
  f64(184, h.sclInter);
  f64(192, h.calMax);
  f64(200, h.calMin);
  f64(208, h.sliceDuration);
  f64(216, h.toffset);
  i64(224, h.sliceStart);
  i64(232, h.sliceEnd);
  putText(b, 240, 80, h.description);
  putText(b, 320, 24, h.auxFile);
  i32(344, h.qformCode);
  i32(348, h.sformCode);
  h.quatern.forEach((q, k) => f64(352 + 8 * k, q));
  h.qoffset.forEach((q, k) => f64(376 + 8 * k, q));
  h.srow.forEach((row, r) => row.forEach((x, c) => f64(400 + 32 * r + 8 * c, x)));
  i32(496, h.sliceCode);
  i32(500, h.xyztUnits);
  i32(504, h.intentCode);
  putText(b, 508, 16, h.intentName);
  v.setUint8(524, h.dimInfo);
}
