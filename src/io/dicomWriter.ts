// Writing DICOM Part 10 files in Explicit VR Little Endian: a dataset is a list of elements (tag, VR,
// value), sequences hold datasets; lengths are all defined (computed bottom-up), elements are sorted
// by tag, string values padded to even length as the standard requires.

export type DicomValue = string | string[] | number | number[] | Uint8Array | DicomDataset[];

export interface DicomElement {
  /** (group << 16) | element, e.g. 0x00200032 */
  tag: number;
  vr: string;
  value: DicomValue;
}

export type DicomDataset = DicomElement[];

/** Explicit VR Little Endian. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

// VRs whose explicit encoding has a 2-byte reserved field and a 4-byte length
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'SQ', 'UC', 'UR', 'UT', 'UN']);

function stringBytes(vr: string, v: string | string[] | number | number[]): Buffer {
  const parts = (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'number' ? formatNumber(vr, x) : x));
  let s = parts.join('\\');
  // UIDs pad with NUL, other strings with a space
  if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
  return Buffer.from(s, 'latin1');
}

/** DS: at most 16 characters; IS: an integer. */
function formatNumber(vr: string, x: number): string {
  if (vr === 'IS') return String(Math.round(x));
  if (!Number.isFinite(x)) throw new RangeError(`DS value ${x} is not finite`);
  for (let p = 15; p > 0; p--) {
    const s = Number(x.toPrecision(p)).toString();
    if (s.length <= 16) return s;
  }
  return x.toExponential(8);
}

function binaryBytes(vr: string, v: DicomValue): Buffer {
  const nums = (Array.isArray(v) ? v : [v]) as number[];
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2 * nums.length);
      nums.forEach((n, i) => b.writeUInt16LE(n, 2 * i));
      return b;
    }
    case 'UL':
    case 'AT': {
      const b = Buffer.alloc(4 * nums.length);
      // AT: a tag as group then element, each uint16
      nums.forEach((n, i) =>
        vr === 'AT'
          ? (b.writeUInt16LE(n >>> 16, 4 * i), b.writeUInt16LE(n & 0xffff, 4 * i + 2))
          : b.writeUInt32LE(n, 4 * i),
      );
      return b;
    }
    case 'SS': {
      const b = Buffer.alloc(2 * nums.length);
      nums.forEach((n, i) => b.writeInt16LE(n, 2 * i));
      return b;
    }
    case 'FL': {
      const b = Buffer.alloc(4 * nums.length);
      nums.forEach((n, i) => b.writeFloatLE(n, 4 * i));
      return b;
    }
    case 'FD': {
      const b = Buffer.alloc(8 * nums.length);
      nums.forEach((n, i) => b.writeDoubleLE(n, 8 * i));
      return b;
    }
    default:
      throw new Error(`DICOM writer: VR ${vr} is not supported`);
  }
}

function valueBytes(e: DicomElement): Buffer {
  if (e.vr === 'SQ') {
    const items = (e.value as DicomDataset[]).map((ds) => {
      const body = encodeDataset(ds);
      const head = Buffer.alloc(8);
      head.writeUInt16LE(0xfffe, 0);
      head.writeUInt16LE(0xe000, 2);
      head.writeUInt32LE(body.length, 4);
      return Buffer.concat([head, body]);
    });
    return Buffer.concat(items);
  }
  if (e.vr === 'OB' || e.vr === 'UN') {
    const b = Buffer.from(e.value as Uint8Array);
    return b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b;
  }
  if (['US', 'UL', 'SS', 'FL', 'FD', 'AT'].includes(e.vr)) return binaryBytes(e.vr, e.value);
  return stringBytes(e.vr, e.value as string | string[] | number | number[]);
}

function encodeElement(e: DicomElement): Buffer {
  const value = valueBytes(e);
  const long = LONG_VRS.has(e.vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(e.tag >>> 16, 0);
  head.writeUInt16LE(e.tag & 0xffff, 2);
  head.write(e.vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else {
    if (value.length > 0xffff)
      throw new RangeError(`DICOM element ${e.tag.toString(16)} is too long for VR ${e.vr}`);
    head.writeUInt16LE(value.length, 6);
  }
  return Buffer.concat([head, value]);
}

/** The elements of a dataset, sorted by tag, encoded one after the other. */
export function encodeDataset(ds: DicomDataset): Buffer {
  const sorted = [...ds].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.tag === sorted[i - 1]!.tag)
      throw new Error(`DICOM writer: tag ${sorted[i]!.tag.toString(16)} appears twice`);
  return Buffer.concat(sorted.map(encodeElement));
}

/** A Part 10 file: preamble, "DICM", the file meta group (with its group length), then the dataset. */
export function encodePart10(sopClassUid: string, sopInstanceUid: string, ds: DicomDataset): Buffer {
  const meta = encodeDataset([
    { tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
    { tag: 0x00020002, vr: 'UI', value: sopClassUid },
    { tag: 0x00020003, vr: 'UI', value: sopInstanceUid },
    { tag: 0x00020010, vr: 'UI', value: EXPLICIT_VR_LITTLE_ENDIAN },
    { tag: 0x00020012, vr: 'UI', value: MEDSEG_IMPLEMENTATION_UID },
    { tag: 0x00020013, vr: 'SH', value: 'MEDSEG' },
  ]);
  const groupLength = encodeElement({ tag: 0x00020000, vr: 'UL', value: meta.length });
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    groupLength,
    meta,
    encodeDataset(ds),
  ]);
}

/** medseg's implementation class UID (under the UUID-derived root 2.25). */
export const MEDSEG_IMPLEMENTATION_UID = '2.25.229517466417361011226563541290546710853';

/** A new UID: 2.25 followed by a random 128-bit integer (ISO/IEC 9834-8, as DICOM PS3.5 B.2 allows). */
export function newUid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return `2.25.${n.toString()}`;
}
