// NRRD (.nrrd attached, .nhdr detached) read, and .nrrd write. Geometry comes from "space
// directions" and "space origin" in the named space, turned into RAS (LPS flips x and y). A
// non-spatial axis (vector, list, colour) ends up as the 4th dimension, as the Volume layout wants.
import fs from 'node:fs';
import path from 'node:path';
import { flipXY, spacingOf, type Mat4 } from './affine.js';
import { atomicWrite } from './atomic.js';
import { bytesOf, elementBytes, swapBytes, viewAs, voxelBytes } from './datatype.js';
import { ImageFormatError, formatBytes } from './errors.js';
import { gunzipRegion, writeGzip } from './gzip.js';
import { MAX_VOXELS, checkVolume } from './nifti.js';
import { permuteAxes } from './orientation.js';
import type { Volume, VoxelType } from './volume.js';

const TYPES: Record<string, VoxelType> = {};
const alias = (t: VoxelType, names: string[]): void => names.forEach((n) => (TYPES[n] = t));
alias('int8', ['signed char', 'int8', 'int8_t']);
alias('uint8', ['uchar', 'unsigned char', 'uint8', 'uint8_t']);
alias('int16', ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t']);
alias('uint16', ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t']);
alias('int32', ['int', 'signed int', 'int32', 'int32_t']);
alias('uint32', ['uint', 'unsigned int', 'uint32', 'uint32_t']);
alias('int64', [
  'longlong',
  'long long',
  'long long int',
  'signed long long',
  'signed long long int',
  'int64',
  'int64_t',
]);
alias('uint64', ['ulonglong', 'unsigned long long', 'unsigned long long int', 'uint64', 'uint64_t']);
alias('float32', ['float']);
alias('float64', ['double']);

const NRRD_NAME: Partial<Record<VoxelType, string>> = {
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  float32: 'float',
  float64: 'double',
};

/** Which world axes a space flips to reach RAS; ITK reads the unnamed and scanner spaces as LPS. */
const SPACE_FLIP: Record<string, [boolean, boolean, boolean]> = {
  'right-anterior-superior': [false, false, false],
  ras: [false, false, false],
  'left-anterior-superior': [true, false, false],
  las: [true, false, false],
  'left-posterior-superior': [true, true, false],
  lps: [true, true, false],
  'scanner-xyz': [true, true, false],
  '3d-right-handed': [true, true, false],
};

const NON_SPATIAL_KINDS = new Set([
  'list', 'point', 'vector', 'covariant-vector', 'normal', 'stub', 'scalar', 'complex', '2-vector', '3-color',
  'rgb-color', 'hsv-color', 'xyz-color', '4-color', 'rgba-color', '3-vector', '3-gradient', '3-normal', '4-vector',
  'quaternion', '2d-symmetric-matrix', '2d-masked-symmetric-matrix', '2d-matrix', '2d-masked-matrix',
  '3d-symmetric-matrix', '3d-masked-symmetric-matrix', '3d-matrix', '3d-masked-matrix', 'time',
]); // prettier-ignore

/** Older spellings of field names. */
const FIELD_ALIASES: Record<string, string> = {
  datafile: 'data file',
  lineskip: 'line skip',
  byteskip: 'byte skip',
};

export interface NrrdHeader {
  version: number;
  fields: Map<string, string>;
  /** Lines after a "data file: LIST" field. */
  listFiles: string[];
  /** Byte offset of attached data (just past the blank line), or the file length when none. */
  dataStart: number;
}

/** Parses the text header; fields are keyed by lower-case name. */
export function parseNrrdHeader(content: Uint8Array, file: string): NrrdHeader {
  const magic = Buffer.from(content.subarray(0, 8)).toString('latin1');
  if (!/^NRRD000[1-5]$/.test(magic))
    throw new ImageFormatError(file, 'not a NRRD file (no "NRRD000x" magic)');
  const fields = new Map<string, string>();
  const listFiles: string[] = [];
  let pos = 0;
  let inList = false;
  let dataStart = content.length;
  for (let lineNo = 0; pos < content.length; lineNo++) {
    let end = content.indexOf(0x0a, pos);
    if (end < 0) end = content.length;
    const line = Buffer.from(content.subarray(pos, end)).toString('latin1').replace(/\r$/, '');
    pos = end + 1;
    if (lineNo === 0) continue;
    if (line === '') {
      dataStart = Math.min(pos, content.length);
      break;
    }
    if (inList) {
      listFiles.push(line.trim());
      continue;
    }
    if (line.startsWith('#')) continue;
    if (/^[^:]*:=/.test(line)) continue; // key/value pairs carry no structure we need
    const colon = line.indexOf(': ');
    if (colon < 0)
      throw new ImageFormatError(
        file,
        `bad NRRD header line ${lineNo + 1}: ${JSON.stringify(line.slice(0, 80))}`,
      );
    const raw = line.slice(0, colon).trim().toLowerCase();
    const key = FIELD_ALIASES[raw] ?? raw;
    const value = line.slice(colon + 2).trim();
    fields.set(key, value);
    if (key === 'data file' && /^LIST(\s|$)/.test(value)) inList = true;
    if (pos > 1 << 20) throw new ImageFormatError(file, 'NRRD header longer than 1 MiB');
  }
  return { version: Number(magic[7]), fields, listFiles, dataStart };
}

const vectors = (s: string): (number[] | undefined)[] =>
  (s.match(/\([^)]*\)|none/g) ?? []).map((v) =>
    v === 'none' ? undefined : v.slice(1, -1).split(',').map(Number),
  );

/** Reads a .nrrd or .nhdr file. */
export async function readNrrd(file: string): Promise<Volume> {
  const content = new Uint8Array(await fs.promises.readFile(file));
  const h = parseNrrdHeader(content, file);
  const f = h.fields;
  const need = (k: string): string => {
    const v = f.get(k);
    if (v === undefined) throw new ImageFormatError(file, `NRRD header has no "${k}" field`);
    return v;
  };
  const typeName = need('type').toLowerCase();
  const stored = TYPES[typeName];
  if (!stored) throw new ImageFormatError(file, `unsupported NRRD type "${typeName}"`);
  const dimension = Number(need('dimension'));
  const sizes = need('sizes').split(/\s+/).map(Number);
  if (!Number.isInteger(dimension) || dimension < 1 || sizes.length !== dimension) {
    throw new ImageFormatError(
      file,
      `"dimension: ${f.get('dimension')}" does not match "sizes: ${f.get('sizes')}"`,
    );
  }
  if (!sizes.every((s) => Number.isInteger(s) && s >= 1))
    throw new ImageFormatError(file, `bad sizes: ${f.get('sizes')}`);
  const voxels = sizes.reduce((a, b) => a * b, 1);
  if (voxels > MAX_VOXELS)
    throw new ImageFormatError(file, `sizes ${sizes.join('×')} make more than 2^31 elements`);
  const geo = nrrdGeometry(f, sizes, file);
  const colour =
    geo.extra === 0 && sizes[0] === 3 && stored === 'uint8' && /rgb-color/i.test(f.get('kinds') ?? '');
  const bytes = await nrrdData(h, file, voxels * voxelBytes[stored], stored);
  let data = viewAs(stored, bytes.buffer, bytes.byteOffset, voxels);
  let shape = geo.spatial.map((a) => sizes[a]!);
  if (shape.length === 2) shape.push(1);
  const datatype: VoxelType = colour ? 'rgb24' : stored;
  if (colour) {
    data = viewAs('rgb24', bytes.buffer, bytes.byteOffset, voxels / 3);
  } else if (geo.extra !== undefined) {
    // Move the non-spatial axis last; spatial axes keep their order.
    const order = [...geo.spatial, geo.extra];
    data = permuteAxes(data, sizes, order).data;
    // For a 2D image the permuted data is x, y, c: nz = 1 in between does not move it.
    shape = [...shape, sizes[geo.extra]!];
  }
  return {
    data,
    shape,
    spacing: spacingOf(geo.affine),
    affine: geo.affine,
    datatype,
    sclSlope: 1,
    sclInter: 0,
    header: { format: 'nrrd', ...(f.has('content') ? { description: f.get('content')! } : {}) },
  };
}

interface NrrdGeometry {
  affine: Mat4;
  /** The spatial axes (2 or 3), in file order. */
  spatial: number[];
  /** The non-spatial axis, if any. */
  extra?: number;
}

function nrrdGeometry(f: Map<string, string>, sizes: number[], file: string): NrrdGeometry {
  const dim = sizes.length;
  const kinds = f.get('kinds')?.toLowerCase().split(/\s+/);
  const dirs = f.has('space directions') ? vectors(f.get('space directions')!) : undefined;
  if (dirs && dirs.length !== dim)
    throw new ImageFormatError(file, `"space directions" has ${dirs.length} entries for ${dim} axes`);
  let spatial: number[];
  if (dirs) spatial = dirs.flatMap((d, a) => (d ? [a] : []));
  else if (kinds) spatial = kinds.flatMap((k, a) => (NON_SPATIAL_KINDS.has(k) ? [] : [a]));
  else spatial = sizes.map((_, a) => a).slice(0, 3);
  const others = sizes.map((_, a) => a).filter((a) => !spatial.includes(a));
  if (spatial.length < 2 || spatial.length > 3 || others.length > 1) {
    throw new ImageFormatError(
      file,
      `unsupported NRRD layout: ${spatial.length} spatial axes and ${others.length} others`,
    );
  }
  const extra = others[0];
  const spaceName = f.get('space')?.toLowerCase();
  let flip: [boolean, boolean, boolean];
  if (spaceName !== undefined) {
    const fl = SPACE_FLIP[spaceName];
    if (!fl) throw new ImageFormatError(file, `unsupported NRRD space "${f.get('space')}"`);
    flip = fl;
  } else {
    flip = SPACE_FLIP.lps!;
  }
  const columns: number[][] = [];
  if (dirs) {
    for (const a of spatial) {
      const d = dirs[a]!;
      if (d.length !== 3) throw new ImageFormatError(file, `space direction ${a} is not a 3-vector`);
      columns.push(d);
    }
  } else {
    const sp = (f.get('spacings') ?? '').split(/\s+/).map(Number);
    spatial.forEach((a, k) =>
      columns.push([0, 1, 2].map((r) => (r === k ? (Number.isFinite(sp[a]) ? sp[a]! : 1) : 0))),
    );
  }
  if (columns.length === 2) {
    // A single slice: the third column is the unit normal of the slice plane.
    const [u, v] = columns as [number[], number[]];
    const n = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
    const len = Math.hypot(n[0]!, n[1]!, n[2]!) || 1;
    columns.push(n.map((x) => x / len));
  }
  const origin = f.has('space origin') ? (vectors(f.get('space origin')!)[0] ?? []) : [0, 0, 0];
  if (origin.length !== 3) throw new ImageFormatError(file, `bad "space origin": ${f.get('space origin')}`);
  const affine: Mat4 = [0, 1, 2].map((r) => [columns[0]![r]!, columns[1]![r]!, columns[2]![r]!, origin[r]!]);
  affine.push([0, 0, 0, 1]);
  if (!affine.flat().every(Number.isFinite))
    throw new ImageFormatError(file, 'NaN or infinity in space directions/origin');
  // Flip the world axes the space names the other way round from RAS.
  const ras =
    flip[0] && flip[1] && !flip[2]
      ? flipXY(affine)
      : affine.map((row, r) => (r < 3 && flip[r] ? row.map((x) => -x) : row));
  return { affine: ras, spatial, ...(extra !== undefined ? { extra } : {}) };
}

/** The data files of a header: itself when attached, else the listed ones, resolved beside it. */
function dataFiles(h: NrrdHeader, file: string): string[] {
  const spec = h.fields.get('data file');
  if (spec === undefined) return [file];
  const dir = path.dirname(file);
  if (/^LIST(\s|$)/.test(spec)) return h.listFiles.filter(Boolean).map((n) => path.resolve(dir, n));
  const m = spec.match(/^(\S*%\S*)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)(\s+\d+)?$/);
  if (m) {
    const [lo, hi, step] = [Number(m[2]), Number(m[3]), Number(m[4])];
    if (step === 0 || (hi - lo) / step < 0)
      throw new ImageFormatError(file, `bad "data file" range: ${spec}`);
    const names: string[] = [];
    for (let i = lo; step > 0 ? i <= hi : i >= hi; i += step)
      names.push(path.resolve(dir, sprintfInt(m[1]!, i)));
    return names;
  }
  return [path.resolve(dir, spec)];
}

function sprintfInt(fmt: string, i: number): string {
  return fmt.replace(/%(0?)(\d*)d/, (_, zero: string, width: string) =>
    String(i).padStart(Number(width || 0), zero ? '0' : ' '),
  );
}

/** The voxel bytes in host order, in a buffer of their own. */
async function nrrdData(h: NrrdHeader, file: string, total: number, t: VoxelType): Promise<Uint8Array> {
  const f = h.fields;
  const encoding = (f.get('encoding') ?? '').toLowerCase();
  const files = dataFiles(h, file);
  if (files.length === 0 || total % files.length !== 0) {
    throw new ImageFormatError(
      file,
      `${formatBytes(total)} of data cannot be split over ${files.length} data files`,
    );
  }
  const per = total / files.length;
  const lineSkip = Number(f.get('line skip') ?? 0);
  const byteSkip = Number(f.get('byte skip') ?? 0);
  if (!Number.isInteger(lineSkip) || lineSkip < 0 || !Number.isInteger(byteSkip) || byteSkip < -1) {
    throw new ImageFormatError(
      file,
      `bad "line skip"/"byte skip": ${f.get('line skip')}/${f.get('byte skip')}`,
    );
  }
  const out = new Uint8Array(new ArrayBuffer(total));
  for (const [k, name] of files.entries()) {
    const attached = name === file;
    let content: Uint8Array;
    try {
      content = attached
        ? new Uint8Array(await fs.promises.readFile(file))
        : new Uint8Array(await fs.promises.readFile(name));
    } catch (e) {
      throw new ImageFormatError(file, `cannot read data file ${name}: ${(e as Error).message}`);
    }
    let start = attached ? h.dataStart : 0;
    for (let s = 0; s < lineSkip; s++) {
      const nl = content.indexOf(0x0a, start);
      if (nl < 0) throw new ImageFormatError(file, `"line skip: ${lineSkip}" runs past the end of ${name}`);
      start = nl + 1;
    }
    const body = content.subarray(start);
    out.set(await decode(body, encoding, byteSkip, per, t, file, name), k * per);
  }
  if (elementBytes(t) > 1 && ['raw', 'gzip', 'gz'].includes(encoding)) {
    const endian = f.get('endian')?.toLowerCase();
    if (endian !== 'little' && endian !== 'big')
      throw new ImageFormatError(file, 'NRRD header needs "endian" for this type');
    if ((endian === 'little') !== (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1))
      swapBytes(out, elementBytes(t));
  }
  return out;
}

async function decode(
  body: Uint8Array,
  encoding: string,
  byteSkip: number,
  bytes: number,
  t: VoxelType,
  file: string,
  name: string,
): Promise<Uint8Array> {
  const short = (have: number): ImageFormatError =>
    new ImageFormatError(
      file,
      `file too short: the header describes ${formatBytes(bytes)} of data, ${name} holds ${formatBytes(have)}`,
    );
  switch (encoding) {
    case 'raw': {
      const from = byteSkip === -1 ? body.length - bytes : byteSkip;
      if (from < 0 || from + bytes > body.length)
        throw short(Math.max(0, body.length - Math.max(0, byteSkip)));
      return body.subarray(from, from + bytes);
    }
    case 'gzip':
    case 'gz': {
      if (byteSkip < 0) throw new ImageFormatError(file, '"byte skip: -1" is only allowed with raw encoding');
      const { data } = await gunzipRegion(body, name, 0, () => ({ offset: byteSkip, bytes }));
      return data;
    }
    case 'ascii':
    case 'text':
    case 'txt':
      return parseAscii(Buffer.from(body).toString('latin1'), bytes / voxelBytes[t], t, file);
    case 'hex': {
      const hex = Buffer.from(body).toString('latin1').replace(/\s+/g, '');
      if (hex.length < 2 * bytes) throw short(hex.length >> 1);
      return new Uint8Array(Buffer.from(hex.slice(0, 2 * bytes), 'hex'));
    }
    default:
      throw new ImageFormatError(
        file,
        `unsupported NRRD encoding "${encoding}" (raw, gzip, ascii and hex are)`,
      );
  }
}

function parseAscii(text: string, n: number, t: VoxelType, file: string): Uint8Array {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (words.length < n)
    throw new ImageFormatError(file, `file too short: ${words.length} of ${n} ascii values`);
  const out = viewAs(t, new ArrayBuffer(n * voxelBytes[t]), 0, n);
  const big = t === 'int64' || t === 'uint64';
  for (let i = 0; i < n; i++) {
    const v = Number(words[i]);
    if (Number.isNaN(v)) throw new ImageFormatError(file, `bad ascii value ${JSON.stringify(words[i])}`);
    (out as unknown as (number | bigint)[])[i] = big ? BigInt(Math.trunc(v)) : v;
  }
  // Typed arrays hold host order; the caller swaps only raw/gzip data.
  return bytesOf(out);
}

export interface NrrdWriteOptions {
  /** Compress the attached data (default true). */
  gzip?: boolean;
  level?: number;
}

/** Writes `vol` as an attached .nrrd in LPS space, atomically. NRRD has no scaling, so it must be identity. */
export async function writeNrrd(file: string, vol: Volume, opts: NrrdWriteOptions = {}): Promise<void> {
  checkVolume(vol, file);
  if (vol.sclSlope !== 1 || vol.sclInter !== 0) {
    throw new ImageFormatError(
      file,
      `NRRD cannot store scaling (slope ${vol.sclSlope}, intercept ${vol.sclInter}); convert to float32 first (--datatype float32)`,
    );
  }
  const lps = flipXY(vol.affine);
  const vec = (c: number): string => `(${[0, 1, 2].map((r) => String(lps[r]![c]!)).join(',')})`;
  const rgb = vol.datatype === 'rgb24';
  const four = vol.shape.length === 4;
  const sizes = rgb ? [3, ...vol.shape] : vol.shape;
  const directions = [...(rgb ? ['none'] : []), vec(0), vec(1), vec(2), ...(four ? ['none'] : [])];
  const kinds = [...(rgb ? ['RGB-color'] : []), 'domain', 'domain', 'domain', ...(four ? ['list'] : [])];
  const gz = opts.gzip ?? true;
  const lines = [
    'NRRD0004',
    '# written by medseg',
    `type: ${rgb ? 'uint8' : NRRD_NAME[vol.datatype]}`,
    `dimension: ${sizes.length}`,
    'space: left-posterior-superior',
    `sizes: ${sizes.join(' ')}`,
    `space directions: ${directions.join(' ')}`,
    `kinds: ${kinds.join(' ')}`,
    'endian: little',
    `encoding: ${gz ? 'gzip' : 'raw'}`,
    `space origin: (${[0, 1, 2].map((r) => String(lps[r]![3]!)).join(',')})`,
    ...(vol.header?.description ? [`content: ${vol.header.description.replace(/[\r\n]/g, ' ')}`] : []),
    '',
    '',
  ];
  let data = bytesOf(vol.data);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    data = data.slice();
    swapBytes(data, elementBytes(vol.datatype));
  }
  const head = new Uint8Array(Buffer.from(lines.join('\n'), 'latin1'));
  await atomicWrite(file, async (tmp) => {
    if (!gz) return fs.promises.writeFile(tmp, Buffer.concat([head, data]));
    // The text header stays plain; only the data after the blank line is compressed.
    await writeGzip(tmp, [data], opts.level ?? 6, head);
  });
}
