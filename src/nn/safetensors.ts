// Checkpoints as safetensors: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data. No pickle, no code runs
// on load; PyTorch reads these with safetensors.torch.load_file (names and layouts are PyTorch's).
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { Tensor, type DType } from '../engine/index.js';
import { bytesPer, TENSOR_DTYPES } from '../engine/dtype.js';
import { ELEMENT_TYPES } from '../common/elementTypes.js';

const CODES = Object.fromEntries(TENSOR_DTYPES.map((d) => [d, ELEMENT_TYPES[d].safetensors])) as Record<
  DType,
  string
>;
const DTYPES = new Map(Object.entries(CODES).map(([d, c]) => [c, d as DType]));

export class CheckpointError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

/** Serialises tensors (and string metadata) to safetensors bytes. */
export function encodeSafetensors(
  tensors: Map<string, Tensor>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cpu = t.detach();
    const moved = cpu.to('cpu');
    const arr = moved.toArray();
    cpu.dispose();
    moved.dispose();
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    header[name] = {
      dtype: CODES[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.byteLength],
    };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes, validating every offset before creating any tensor. */
export function decodeSafetensors(buf: Buffer, file = '<buffer>'): Safetensors {
  if (buf.byteLength < 8) throw new CheckpointError(file, 'file is too short to be a safetensors checkpoint');
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(buf.byteLength - 8) || n > 100_000_000n) {
    throw new CheckpointError(
      file,
      `header length ${n} exceeds the file (${buf.byteLength} bytes): truncated or not safetensors`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + Number(n)).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(file, 'the header is not valid JSON: not a safetensors file or corrupt');
  }
  const dataStart = 8 + Number(n);
  const dataLen = buf.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries: [string, DType, number[], number, number][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const dtype = DTYPES.get(e.dtype ?? '');
    if (!dtype) throw new CheckpointError(file, `tensor '${name}' has unsupported dtype '${e.dtype}'`);
    const shape = e.shape;
    const off = e.data_offsets;
    if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new CheckpointError(file, `tensor '${name}' has an invalid shape`);
    }
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !(off[0]! >= 0 && off[1]! >= off[0]! && off[1]! <= dataLen)
    ) {
      throw new CheckpointError(file, `tensor '${name}' has data offsets outside the file (truncated?)`);
    }
    const need = shape.reduce((a, b) => a * b, 1) * bytesPer(dtype);
    if (off[1]! - off[0]! !== need) {
      throw new CheckpointError(
        file,
        `tensor '${name}' holds ${off[1]! - off[0]!} bytes but [${shape}] ${dtype} needs ${need}`,
      );
    }
    entries.push([name, dtype, shape, off[0]!, off[1]!]);
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, dtype, shape, a, b] of entries) {
    // Copy out to an aligned buffer: the file's data need not be aligned for the element type.
    const bytes = new Uint8Array(b - a);
    bytes.set(buf.subarray(dataStart + a, dataStart + b));
    tensors.set(name, Tensor.fromArray(bytes, shape, dtype));
  }
  return { tensors, metadata };
}

export async function saveSafetensors(
  file: string,
  tensors: Map<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export async function loadSafetensors(file: string): Promise<Safetensors> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new CheckpointError(file, `cannot read: ${(e as Error).message}`);
  }
  return decodeSafetensors(buf, file);
}
