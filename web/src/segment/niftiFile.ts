// NIfTI files in the browser, with medseg's own byte-level reader and writer (src/io/niftiBytes.ts):
// the gzip layer by the browser's DecompressionStream / CompressionStream. The header is read first,
// from the first bytes of the stream, so that the page can say a volume is too large before it
// inflates a single voxel.
import { ImageFormatError } from '../../../src/io/errors';
import { NIFTI2_SIZE, parseNiftiHeader } from '../../../src/io/nifti-header';
import { encodeNifti, niftiLayout, parsePlainNifti, type NiftiLayout } from '../../../src/io/niftiBytes';
import type { Volume } from '../../../src/io/volume';

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The file's bytes as a stream, inflated when they are gzip (told by content, not by name). */
async function plainStream(file: File): Promise<ReadableStream<Uint8Array>> {
  const magic = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  const raw = file.stream() as ReadableStream<Uint8Array>;
  return isGzip(magic)
    ? raw.pipeThrough(
        new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
      )
    : raw;
}

/** Up to `n` leading bytes of the (inflated) file. */
async function leadingBytes(file: File, n: number): Promise<Uint8Array> {
  const reader = (await plainStream(file)).getReader();
  const out = new Uint8Array(n);
  let got = 0;
  try {
    while (got < n) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, n - got);
      out.set(value.subarray(0, take), got);
      got += take;
    }
  } catch (e) {
    throw new ImageFormatError(file.name, `not a NIfTI file (corrupt gzip: ${(e as Error).message})`);
  } finally {
    await reader.cancel().catch(() => {});
  }
  return out.subarray(0, got);
}

/** The validated header and where its voxels lie, from the first bytes only. */
export async function readNiftiLayout(file: File): Promise<NiftiLayout> {
  const head = await leadingBytes(file, NIFTI2_SIZE);
  return niftiLayout(parseNiftiHeader(head, file.name), file.name);
}

/** The whole volume (call readNiftiLayout first to size it). */
export async function readNiftiFile(file: File, layout: NiftiLayout): Promise<Volume> {
  const total = layout.dataOffset + layout.dataBytes;
  const bytes = new Uint8Array(total);
  const reader = (await plainStream(file)).getReader();
  let got = 0;
  try {
    while (got < total) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, total - got);
      bytes.set(value.subarray(0, take), got);
      got += take;
    }
  } catch (e) {
    throw new ImageFormatError(file.name, `corrupt gzip stream (${(e as Error).message})`);
  } finally {
    await reader.cancel().catch(() => {});
  }
  // parsePlainNifti says "file too short" with the sizes when the stream ended early
  return parsePlainNifti(bytes.subarray(0, got), file.name);
}

/** A NIfTI file of `vol` (gzip-compressed when `gzip`), as a Blob to save or to hand to Niivue. */
export async function niftiBlob(vol: Volume, name: string, gzip: boolean): Promise<Blob> {
  const plain = new Blob(encodeNifti(vol, name, 1) as BlobPart[]);
  if (!gzip) return plain;
  return new Response(plain.stream().pipeThrough(new CompressionStream('gzip'))).blob();
}
