// NIfTI-1 and NIfTI-2 bytes ↔ Volume, without Node: header validation, geometry (sform when
// sform_code > 0, else qform when qform_code > 0, else the pixdim diagonal), scaling, and encoding.
// Files, gzip and atomic writes are nifti.ts's; this module has no Node import, so the in-browser
// segmentation page (web/src/segment.ts) reads and writes NIfTI with the same code.
import {
  affineToQform,
  affinesIdentical,
  allFinite,
  det3,
  maxAbsDiff,
  qformToAffine,
  spacingOf,
  type Mat4,
} from './affine.js';
import {
  arrayMatches,
  bytesOf,
  elementBytes,
  elementsPerVoxel,
  niftiCodeOf,
  swapBytes,
  typeOfNifti,
  viewAs,
  voxelBytes,
} from './datatype.js';
import { ImageFormatError, formatBytes } from './errors.js';
import {
  NIFTI1_SIZE,
  NIFTI2_SIZE,
  encodeNiftiHeader,
  parseNiftiHeader,
  type NiftiHeader,
} from './nifti-header.js';
import type { NiftiQform, Volume, VolumeHeader, VoxelType } from './volume.js';

/** Voxel counts above this are refused (typed arrays and the engine index with 32-bit ints). */
export const MAX_VOXELS = 2 ** 31;
/** Bytes one typed array may hold, by default (Node's Buffer limit on 64-bit; browsers allow about as much). */
export const MAX_BUFFER_BYTES = 2 ** 32;
// the platform's byte order, without node:os (this module also runs in the browser)
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where the voxels are and what they are, from a validated header. */
export interface NiftiLayout {
  header: NiftiHeader;
  datatype: VoxelType;
  shape: number[];
  voxels: number;
  dataOffset: number;
  dataBytes: number;
}

/** Validates a header's dimensions, datatype and offset and says where the voxel data lies. */
export function niftiLayout(h: NiftiHeader, file: string, maxBytes = MAX_BUFFER_BYTES): NiftiLayout {
  if (h.magic.startsWith('ni')) {
    throw new ImageFormatError(
      file,
      'the header is of a NIfTI pair (.hdr/.img); only single-file .nii is supported',
    );
  }
  const t = typeOfNifti(h.datatype);
  if (!(t in voxelBytes)) throw new ImageFormatError(file, t);
  const datatype = t as VoxelType;
  const ndim = h.dim[0]!;
  if (!(ndim >= 1 && ndim <= 7))
    throw new ImageFormatError(file, `dim[0] = ${ndim}: the number of dimensions must be 1 to 7`);
  const dims = h.dim.slice(1, ndim + 1);
  dims.forEach((d, k) => {
    if (!Number.isInteger(d) || d < 1)
      throw new ImageFormatError(file, `dim[${k + 1}] = ${d}: dimensions must be ≥ 1`);
  });
  // Dimensions past the 4th (e.g. NIfTI's vector dimension 5) fold into the 4th: x fastest stays true.
  const shape = [dims[0]!, dims[1] ?? 1, dims[2] ?? 1];
  if (ndim >= 4) shape.push(dims.slice(3).reduce((a, b) => a * b, 1));
  const voxels = shape.reduce((a, b) => a * b, 1);
  if (voxels > MAX_VOXELS) {
    throw new ImageFormatError(
      file,
      `dimensions ${dims.join('×')} make ${voxels} voxels, more than the 2^31 supported`,
    );
  }
  const dataBytes = voxels * voxelBytes[datatype];
  if (dataBytes > maxBytes) {
    throw new ImageFormatError(
      file,
      `dimensions ${dims.join('×')} need ${formatBytes(dataBytes)}, more than a buffer can hold`,
    );
  }
  const size = h.version === 1 ? NIFTI1_SIZE : NIFTI2_SIZE;
  let dataOffset = h.voxOffset;
  if (!Number.isFinite(dataOffset) || dataOffset < 0 || !Number.isInteger(dataOffset)) {
    throw new ImageFormatError(file, `vox_offset = ${dataOffset} is not a valid byte offset`);
  }
  // Some writers leave vox_offset 0; in a single file the data then starts after the extension flag.
  if (dataOffset < size) dataOffset = size + 4;
  return { header: h, datatype, shape, voxels, dataOffset, dataBytes };
}

/** The affine by the standard's precedence; a NaN or a singular matrix in the chosen fields is an error. */
export function niftiAffine(h: NiftiHeader, file: string): Mat4 {
  if (h.sformCode > 0) {
    const a = [...h.srow.map((r) => [...r]), [0, 0, 0, 1]];
    if (!allFinite(a)) throw new ImageFormatError(file, 'the sform (srow_x/y/z) contains NaN or infinity');
    if (det3(a) === 0)
      throw new ImageFormatError(file, 'the sform is singular (its 3×3 part has determinant 0)');
    return a;
  }
  if (h.qformCode > 0) {
    const q = qformOf(h);
    if (![...q.quatern, ...q.offset, q.qfac, ...q.pixdim].every(Number.isFinite)) {
      throw new ImageFormatError(file, 'the qform (quatern_b/c/d, qoffset, pixdim) contains NaN or infinity');
    }
    return qformToAffine(q);
  }
  const px = h.pixdim.slice(1, 4);
  if (!px.every(Number.isFinite)) throw new ImageFormatError(file, 'pixdim[1..3] contains NaN or infinity');
  const d = px.map((v) => (Math.abs(v) > 0 ? Math.abs(v) : 1));
  return [
    [d[0]!, 0, 0, 0],
    [0, d[1]!, 0, 0],
    [0, 0, d[2]!, 0],
    [0, 0, 0, 1],
  ];
}

const qformOf = (h: NiftiHeader): NiftiQform => ({
  quatern: [...h.quatern],
  offset: [...h.qoffset],
  qfac: h.pixdim[0]!,
  pixdim: [h.pixdim[1]!, h.pixdim[2]!, h.pixdim[3]!],
});

/** Scaling as NIfTI defines it: slope 0 or not finite means none. */
function scaling(h: NiftiHeader, t: VoxelType, file: string): [number, number] {
  if (t === 'rgb24' || h.sclSlope === 0 || !Number.isFinite(h.sclSlope)) return [1, 0];
  if (Number.isNaN(h.sclInter)) return [h.sclSlope, 0];
  if (!Number.isFinite(h.sclInter))
    throw new ImageFormatError(file, `scl_inter = ${h.sclInter} with a valid scl_slope`);
  return [h.sclSlope, h.sclInter];
}

/** Builds the Volume from a validated layout and its voxel bytes (a buffer of their own). */
export function toVolume(l: NiftiLayout, bytes: Uint8Array, file: string): Volume {
  const h = l.header;
  const affine = niftiAffine(h, file);
  const [sclSlope, sclInter] = scaling(h, l.datatype, file);
  if (h.littleEndian !== HOST_LE) swapBytes(bytes, elementBytes(l.datatype));
  const header: VolumeHeader = {
    format: h.version === 1 ? 'nifti1' : 'nifti2',
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    qform: qformOf(h),
    sform: h.srow.map((r) => [...r]),
    pixdimExtra: h.pixdim.slice(4, 8),
    xyztUnits: h.xyztUnits,
    intentCode: h.intentCode,
    intentName: h.intentName,
    intentParams: [...h.intentParams],
    description: h.description,
  };
  return {
    data: viewAs(l.datatype, bytes.buffer, bytes.byteOffset, l.voxels),
    shape: l.shape,
    spacing: spacingOf(affine),
    affine,
    datatype: l.datatype,
    sclSlope,
    sclInter,
    header,
  };
}

/** A file (or buffer) of `size` bytes must hold the voxel data the header describes. */
export function checkLength(l: NiftiLayout, size: number, file: string): void {
  if (l.dataOffset + l.dataBytes > size) {
    throw new ImageFormatError(
      file,
      `file too short: the header describes ${formatBytes(l.dataBytes)} of voxel data at offset ${l.dataOffset}, but the file has ${formatBytes(size)}`,
    );
  }
}

/** Decodes uncompressed NIfTI bytes held in memory (the gzip layer, if any, already removed). */
export function parsePlainNifti(content: Uint8Array, file = '<memory>', maxBytes = MAX_BUFFER_BYTES): Volume {
  const layout = niftiLayout(parseNiftiHeader(content, file), file, maxBytes);
  checkLength(layout, content.length, file);
  const bytes = content.slice(layout.dataOffset, layout.dataOffset + layout.dataBytes);
  return toVolume(layout, bytes, file);
}

/** Checks that a Volume is consistent before it is encoded. */
export function checkVolume(vol: Volume, file: string): number {
  if (
    vol.shape.length < 3 ||
    vol.shape.length > 4 ||
    !vol.shape.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new ImageFormatError(
      file,
      `cannot write shape [${vol.shape.join(', ')}]: need 3 or 4 positive dimensions`,
    );
  }
  const voxels = vol.shape.reduce((a, b) => a * b, 1);
  if (!arrayMatches(vol.datatype, vol.data) || vol.data.length !== voxels * elementsPerVoxel(vol.datatype)) {
    throw new ImageFormatError(
      file,
      `cannot write: data (${vol.data.constructor.name} of ${vol.data.length}) does not match datatype ${vol.datatype} and shape [${vol.shape.join(', ')}]`,
    );
  }
  if (vol.affine.length !== 4 || !vol.affine.every((r) => r.length === 4) || !allFinite(vol.affine)) {
    throw new ImageFormatError(file, 'cannot write: the affine must be a finite 4×4 matrix');
  }
  return voxels;
}

/** The NIfTI header that stores `vol`; geometry is rebuilt from the affine unless it is unchanged since reading. */
export function niftiHeaderFor(vol: Volume, file: string, version?: 1 | 2): NiftiHeader {
  checkVolume(vol, file);
  const x = vol.header ?? {};
  const v = version ?? (x.format === 'nifti2' || vol.shape.some((d) => d > 32767) ? 2 : 1);
  if (v === 1 && vol.shape.some((d) => d > 32767)) {
    throw new ImageFormatError(
      file,
      `a dimension of [${vol.shape.join(', ')}] exceeds NIfTI-1's 32767; write NIfTI-2`,
    );
  }
  let qformCode = x.qformCode ?? 1;
  let sformCode = x.sformCode ?? 1;
  let qform: NiftiQform;
  let srow: number[][];
  const stored = storedGeometry(x);
  if (stored && affinesIdentical(stored.affine, vol.affine)) {
    // Unchanged since reading: write the fields as they were, bit for bit.
    qform = stored.qform;
    srow = stored.sform;
  } else {
    qform = affineToQform(vol.affine);
    srow = vol.affine.slice(0, 3).map((r) => [...r]);
    // Codes 0 would throw the new geometry away: make sure a reader finds it.
    if (sformCode <= 0) {
      const viaQform = qformCode > 0 ? qformToAffine(qform) : undefined;
      const scale = 1 + Math.max(...vol.affine.flat().map(Math.abs));
      if (!viaQform || maxAbsDiff(viaQform, vol.affine) > 1e-5 * scale) sformCode = Math.max(qformCode, 1);
    }
    if (qformCode < 0) qformCode = 0;
  }
  const shape = vol.shape;
  return {
    version: v,
    littleEndian: true,
    dim: [shape.length, ...shape, ...Array(7 - shape.length).fill(1)],
    datatype: niftiCodeOf[vol.datatype],
    bitpix: voxelBytes[vol.datatype] * 8,
    pixdim: [qform.qfac < 0 ? -1 : 1, ...qform.pixdim, ...(x.pixdimExtra ?? [1, 1, 1, 1])].slice(0, 8),
    voxOffset: (v === 1 ? NIFTI1_SIZE : NIFTI2_SIZE) + 4,
    sclSlope: vol.sclSlope,
    sclInter: vol.sclInter,
    qformCode,
    sformCode,
    quatern: qform.quatern,
    qoffset: qform.offset,
    srow,
    intentCode: x.intentCode ?? 0,
    intentParams: x.intentParams ?? [0, 0, 0],
    intentName: x.intentName ?? '',
    description: x.description ?? '',
    auxFile: '',
    xyztUnits: x.xyztUnits ?? 2 | 8, // mm and s
    dimInfo: 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceDuration: 0,
    toffset: 0,
    calMax: 0,
    calMin: 0,
    magic: v === 1 ? 'n+1' : 'n+2',
  };
}

/** The geometry fields as read and the affine they gave, when the header kept them. */
function storedGeometry(x: VolumeHeader): { affine: Mat4; qform: NiftiQform; sform: number[][] } | undefined {
  if (!x.qform || !x.sform || x.qformCode === undefined || x.sformCode === undefined) return undefined;
  const values = [...x.qform.quatern, ...x.qform.offset, x.qform.qfac, ...x.qform.pixdim, ...x.sform.flat()];
  if (!values.every(Number.isFinite)) return undefined;
  const h = { sformCode: x.sformCode, qformCode: x.qformCode, srow: x.sform, quatern: x.qform.quatern };
  const fake = {
    ...h,
    qoffset: x.qform.offset,
    pixdim: [x.qform.qfac, ...x.qform.pixdim, 0, 0, 0, 0],
  } as NiftiHeader;
  try {
    return { affine: niftiAffine(fake, ''), qform: x.qform, sform: x.sform };
  } catch {
    return undefined;
  }
}

/** The bytes of a NIfTI file for `vol`: header (with the 4 extension bytes) and voxel data. */
export function encodeNifti(vol: Volume, file = '<memory>', version?: 1 | 2): Uint8Array[] {
  const header = encodeNiftiHeader(niftiHeaderFor(vol, file, version));
  let data = bytesOf(vol.data);
  if (!HOST_LE) {
    data = data.slice();
    swapBytes(data, elementBytes(vol.datatype));
  }
  return [header, data];
}
