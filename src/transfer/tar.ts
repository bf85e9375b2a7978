// A minimal POSIX ustar archive, written and read by our own code: regular files only, no links,
// no compression, no code run on read. A model package is one such archive (see package.ts). The
// reader refuses what it does not understand with one line: a bad header checksum, a member that
// runs past the end of the file (truncated), a name that would escape the destination folder.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

const BLOCK = 512;
const CHUNK = 1 << 20;

export class ArchiveError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ArchiveError';
  }
}

export interface TarMember {
  /** Relative path with '/' separators. */
  name: string;
  size: number;
  /** Byte offset of the member's data in the archive. */
  offset: number;
}

/** A member's name checked: relative, '/'-separated, no '..', no empty part. */
export function safeMemberName(name: string): boolean {
  if (!name || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The 512-byte ustar header of a regular file (names up to 255 bytes via the prefix field). */
export function tarHeader(name: string, size: number, mtimeSeconds = 0): Buffer {
  if (!safeMemberName(name)) throw new Error(`tar: unsafe member name '${name}'`);
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new Error(`tar: member name too long '${name}'`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtimeSeconds, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Writes `members` (archive name → file on disk) in the given order to the open file `out`. */
export async function writeTar(out: fs.FileHandle, members: { name: string; file: string }[]): Promise<void> {
  const buf = Buffer.alloc(CHUNK);
  for (const m of members) {
    const src = await fs.open(m.file, 'r');
    try {
      const { size } = await src.stat();
      await out.write(tarHeader(m.name, size));
      let done = 0;
      while (done < size) {
        const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, size - done), done);
        if (bytesRead === 0) throw new Error(`${m.file}: changed while being packaged`);
        await out.write(buf.subarray(0, bytesRead));
        done += bytesRead;
      }
      await out.write(Buffer.alloc(padding(size)));
    } finally {
      await src.close();
    }
  }
  await out.write(Buffer.alloc(2 * BLOCK)); // end of archive
}

function field(h: Buffer, at: number, len: number): string {
  const s = h.subarray(at, at + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? len : end).toString('utf8');
}

function parseOctal(h: Buffer, at: number, len: number): number {
  const s = field(h, at, len).trim();
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
}

/** Lists the members of an archive, checking every header and that every member fits in the file. */
export async function listTar(file: string): Promise<TarMember[]> {
  const fh = await fs.open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const members: TarMember[] = [];
    const h = Buffer.alloc(BLOCK);
    let at = 0;
    for (;;) {
      if (at + BLOCK > total)
        throw new ArchiveError(file, `truncated: the archive ends inside a header at byte ${at} of ${total}`);
      await fh.read(h, 0, BLOCK, at);
      if (h.every((b) => b === 0)) return members; // end-of-archive block
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      if (parseOctal(h, 148, 8) !== sum)
        throw new ArchiveError(file, `corrupt: bad header checksum at byte ${at} (not a medseg package?)`);
      const prefix = field(h, 345, 155);
      const name = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
      const type = String.fromCharCode(h[156]!);
      const size = parseOctal(h, 124, 12);
      if (type !== '0' && type !== '\0')
        throw new ArchiveError(file, `member '${name}' is not a regular file`);
      if (!safeMemberName(name)) throw new ArchiveError(file, `unsafe member name '${name}'`);
      if (!Number.isFinite(size)) throw new ArchiveError(file, `member '${name}' has a bad size field`);
      const offset = at + BLOCK;
      if (offset + size > total)
        throw new ArchiveError(
          file,
          `truncated: member '${name}' needs ${size} bytes, ${Math.max(0, total - offset)} are left`,
        );
      members.push({ name, size, offset });
      at = offset + size + padding(size);
    }
  } finally {
    await fh.close();
  }
}

/** Reads one member's bytes (small members: the manifest, JSON files). */
export async function readMember(file: string, m: TarMember): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const b = Buffer.alloc(m.size);
    await fh.read(b, 0, m.size, m.offset);
    return b;
  } finally {
    await fh.close();
  }
}

/** Copies one member to `dest` (created with its folders); returns its SHA-256 (hex). */
export async function extractMember(file: string, m: TarMember, dest: string): Promise<string> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const src = await fs.open(file, 'r');
  const out = await fs.open(dest, 'w');
  const hash = createHash('sha256');
  try {
    const buf = Buffer.alloc(CHUNK);
    let done = 0;
    while (done < m.size) {
      const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, m.size - done), m.offset + done);
      if (bytesRead === 0) throw new ArchiveError(file, `truncated inside member '${m.name}'`);
      hash.update(buf.subarray(0, bytesRead));
      await out.write(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await src.close();
    await out.close();
  }
  return hash.digest('hex');
}

/** SHA-256 (hex) of a whole file, read in chunks. */
export async function sha256File(file: string): Promise<string> {
  const fh = await fs.open(file, 'r');
  const hash = createHash('sha256');
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let at = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
      if (!bytesRead) break;
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
