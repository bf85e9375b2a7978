// A checkpoint reduced to what inference and fine-tuning read: the network's tensors and the
// trainer's state metadata, without the optimiser's moments and the RNG state (they would double
// a package's size and are only needed to resume). Done on the safetensors bytes themselves, so
// every kept tensor is bit for bit the one trained, and no libtorch is needed to package.
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** True for the tensors a checkpoint holds beside the network's own (see nn/checkpoint.ts). */
const notWeights = (name: string) => name.startsWith('optimizer.') || name.startsWith('rng.');

export async function writeWeightsOnly(src: string, dest: string): Promise<void> {
  const buf = await fs.readFile(src);
  if (buf.byteLength < 8) throw new Error(`${src}: too short to be a safetensors checkpoint`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.byteLength - 8) throw new Error(`${src}: header runs past the end of the file (truncated?)`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const dataStart = 8 + n;
  const meta = (header.__metadata__ ?? {}) as Record<string, string>;
  const out: Record<string, unknown> = {};
  if (meta.state !== undefined) out.__metadata__ = { state: meta.state };
  const chunks: Buffer[] = [];
  let offset = 0;
  const names = Object.keys(header)
    .filter((k) => k !== '__metadata__' && !notWeights(k))
    .sort();
  for (const name of names) {
    const e = header[name] as Entry;
    const [a, b] = e.data_offsets;
    if (!(a >= 0 && b >= a && dataStart + b <= buf.byteLength))
      throw new Error(`${src}: tensor '${name}' lies outside the file (truncated?)`);
    chunks.push(buf.subarray(dataStart + a, dataStart + b));
    out[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + (b - a)] };
    offset += b - a;
  }
  let json = JSON.stringify(out);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await writeFileAtomic(dest, Buffer.concat([head, Buffer.from(json), ...chunks]));
}
