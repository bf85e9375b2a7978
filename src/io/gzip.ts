// gzip without blocking the event loop (zlib streams run on the thread pool). Reading decompresses
// straight into a buffer sized from the file's own header, so a decompression bomb or a header that
// asks for absurd sizes is refused before anything large is allocated. Concatenated gzip members are
// read as one stream, as zlib does.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ImageFormatError, formatBytes } from './errors.js';

/** deflate cannot expand data by more than about 1032:1; more than this cannot be in the file. */
const MAX_RATIO = 1032;
/** Output past the wanted region that is still decompressed, to check the gzip CRC at the end. */
const TRAILING_CHECK_LIMIT = 64 * 1024 * 1024;
const CHUNK = 1 << 20;

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export interface Region {
  /** Offset of the wanted bytes in the decompressed stream. */
  offset: number;
  /** How many bytes are wanted. */
  bytes: number;
}

export interface Inflated {
  /** The first bytes of the stream (up to headBytes; fewer if the stream is shorter). */
  head: Uint8Array;
  /** The wanted region, in a buffer of its own (byteOffset 0, so any typed array can view it). */
  data: Uint8Array;
}

/**
 * Decompresses `compressed` (the content of `file`). Once `headBytes` bytes are out (or the stream
 * ends), `plan(head)` says which region is wanted; it may throw to refuse the file.
 */
export async function gunzipRegion(
  compressed: Uint8Array,
  file: string,
  headBytes: number,
  plan: (head: Uint8Array) => Region,
): Promise<Inflated> {
  const gz = zlib.createGunzip({ chunkSize: CHUNK });
  gz.end(compressed);
  const headParts: Buffer[] = [];
  let headLen = 0;
  let head: Uint8Array | undefined;
  let region: Region | undefined;
  let data: Uint8Array | undefined;
  let pos = 0; // decompressed bytes seen so far
  // Copies the part of `chunk` (which starts at stream offset `at`) that falls in the region.
  const copyPart = (chunk: Uint8Array, at: number): void => {
    const r = region!;
    const from = Math.max(at, r.offset);
    const to = Math.min(at + chunk.length, r.offset + r.bytes);
    if (to > from) data!.set(chunk.subarray(from - at, to - at), from - r.offset);
  };
  // Called once the head is known: plan, refuse impossible sizes, then replay the buffered chunks.
  const start = (): void => {
    head = Buffer.concat(headParts, headLen).subarray(0, headBytes);
    region = plan(head);
    checkRatio(region, compressed.length, file);
    data = new Uint8Array(new ArrayBuffer(region.bytes));
    let at = 0;
    for (const part of headParts) {
      copyPart(part, at);
      at += part.length;
    }
  };
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      if (region) {
        copyPart(chunk, pos);
      } else {
        headParts.push(chunk);
        headLen += chunk.length;
      }
      pos += chunk.length;
      if (!region && headLen >= headBytes) start();
      if (region && pos - (region.offset + region.bytes) > TRAILING_CHECK_LIMIT) break;
    }
  } catch (e) {
    if (e instanceof ImageFormatError) throw e;
    const err = e as NodeJS.ErrnoException;
    // A later member header that is not gzip is trailing junk after complete data: keep the data.
    const junk = err.code === 'Z_DATA_ERROR' && /header check|compression method/.test(err.message);
    if (!(junk && region && pos >= region.offset + region.bytes)) throw gzipError(file, err);
  }
  if (!region) start();
  const wanted = region!.offset + region!.bytes;
  if (pos < wanted) {
    throw new ImageFormatError(
      file,
      `file too short: the header describes ${formatBytes(wanted)} but the gzip stream holds ${formatBytes(pos)}`,
    );
  }
  return { head: head!, data: data! };
}

function checkRatio(region: Region, compressedBytes: number, file: string): void {
  const wanted = region.offset + region.bytes;
  if (wanted > compressedBytes * MAX_RATIO + 1024) {
    throw new ImageFormatError(
      file,
      `header asks for ${formatBytes(wanted)} of data, more than a ${formatBytes(compressedBytes)} gzip file can hold`,
    );
  }
}

function gzipError(file: string, err: NodeJS.ErrnoException): ImageFormatError {
  if (err.code === 'Z_BUF_ERROR') {
    return new ImageFormatError(file, 'gzip data is truncated (the file ends inside the compressed stream)', {
      cause: err,
    });
  }
  return new ImageFormatError(file, `corrupt gzip data (${err.message})`, { cause: err });
}

/** Writes `parts` gzip-compressed to `file`, after `plain` bytes written as they are (NRRD's text header). */
export async function writeGzip(
  file: string,
  parts: Uint8Array[],
  level = 6,
  plain?: Uint8Array,
): Promise<void> {
  const chunks = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  const out = fs.createWriteStream(file);
  if (plain) out.write(plain);
  await pipeline(Readable.from(chunks), zlib.createGzip({ level, chunkSize: CHUNK }), out);
}
