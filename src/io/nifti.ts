// NIfTI-1 and NIfTI-2 (.nii, .nii.gz) files: read (gzip told by content) and written atomically. The
// byte-level work (header checks, geometry, scaling, encoding) is niftiBytes.ts's, shared with the
// browser; this module adds the file system, gzip and Node's buffer limit.
// Every check that can refuse a file runs on the header, before the voxel buffer is allocated.
import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import { atomicWrite } from './atomic.js';
import { ImageFormatError } from './errors.js';
import { gunzipRegion, isGzip, writeGzip } from './gzip.js';
import { NIFTI2_SIZE, parseNiftiHeader } from './nifti-header.js';
import {
  checkLength,
  encodeNifti,
  niftiLayout,
  parsePlainNifti,
  toVolume,
  type NiftiLayout,
} from './niftiBytes.js';
import type { Volume } from './volume.js';

export {
  MAX_VOXELS,
  checkVolume,
  encodeNifti,
  niftiAffine,
  niftiHeaderFor,
  niftiLayout,
  type NiftiLayout,
} from './niftiBytes.js';

const MAX_BYTES = bufferConstants.MAX_LENGTH;

/** Reads a .nii or .nii.gz file (gzip told by content, not by name). */
export async function readNifti(file: string): Promise<Volume> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const probe = new Uint8Array(NIFTI2_SIZE);
    const { bytesRead } = await fh.read(probe, 0, probe.length, 0);
    const head = probe.subarray(0, bytesRead);
    if (isGzip(head)) return await inflateNifti(await fh.readFile(), file);
    const layout = niftiLayout(parseNiftiHeader(head, file), file, MAX_BYTES);
    const { size } = await fh.stat();
    checkLength(layout, size, file);
    const bytes = new Uint8Array(new ArrayBuffer(layout.dataBytes));
    // One read call is limited to 2 GiB, so read in pieces.
    for (let done = 0; done < bytes.length;) {
      const n = Math.min(bytes.length - done, 1 << 30);
      const r = await fh.read(bytes, done, n, layout.dataOffset + done);
      if (r.bytesRead === 0) throw new ImageFormatError(file, 'file shrank while being read');
      done += r.bytesRead;
    }
    return toVolume(layout, bytes, file);
  } finally {
    await fh.close();
  }
}

/** Decodes NIfTI bytes held in memory (plain or gzip). */
export async function parseNifti(content: Uint8Array, file = '<memory>'): Promise<Volume> {
  if (isGzip(content)) return inflateNifti(content, file);
  return parsePlainNifti(content, file, MAX_BYTES);
}

async function inflateNifti(compressed: Uint8Array, file: string): Promise<Volume> {
  let layout: NiftiLayout | undefined;
  const { data } = await gunzipRegion(compressed, file, NIFTI2_SIZE, (head) => {
    layout = niftiLayout(parseNiftiHeader(head, file), file, MAX_BYTES);
    return { offset: layout.dataOffset, bytes: layout.dataBytes };
  });
  return toVolume(layout!, data, file);
}

export interface NiftiWriteOptions {
  /** 1 or 2; default: the version read, or 2 when a dimension does not fit NIfTI-1's int16. */
  version?: 1 | 2;
  /** Compress; default: when the file name ends in .gz. */
  gzip?: boolean;
  /** zlib level 1–9 (default 6). */
  level?: number;
}

/** Writes `vol` as .nii or .nii.gz, atomically. */
export async function writeNifti(file: string, vol: Volume, opts: NiftiWriteOptions = {}): Promise<void> {
  const parts = encodeNifti(vol, file, opts.version);
  const gz = opts.gzip ?? file.toLowerCase().endsWith('.gz');
  await atomicWrite(file, async (tmp) => {
    if (gz) return writeGzip(tmp, parts, opts.level ?? 6);
    const fh = await fs.promises.open(tmp, 'w');
    try {
      for (const p of parts) {
        // A write may be partial; keep going until the part is out.
        for (let done = 0; done < p.length;) done += (await fh.write(p, done, p.length - done)).bytesWritten;
      }
    } finally {
      await fh.close();
    }
  });
}
