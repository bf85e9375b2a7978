// The JPEG family of DICOM transfer syntaxes, each through a maintained codec loaded on first use:
//   1.2.840.10008.1.2.4.50 JPEG Baseline (8-bit)          libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit)
//   1.2.840.10008.1.2.4.51 JPEG Extended, 8-bit samples    libjpeg-turbo (12-bit samples: refused, no codec)
//   1.2.840.10008.1.2.4.57 JPEG Lossless                   jpeg-lossless-decoder-js
//   1.2.840.10008.1.2.4.70 JPEG Lossless, first-order      jpeg-lossless-decoder-js
//   1.2.840.10008.1.2.4.80 JPEG-LS Lossless                CharLS (@cornerstonejs/codec-charls)
//   1.2.840.10008.1.2.4.81 JPEG-LS Near-Lossless           CharLS
// Every decoder returns the samples in host byte order, 1 byte each up to 8 bits, else 2 bytes, the
// stored bit pattern as the codec reconstructs it (signed data are reinterpreted by the caller).
import { createRequire } from 'node:module';

export interface JpegFrame {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  /** The samples, a copy owned by the caller. */
  bytes: Uint8Array;
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}

/** The embind interface both cornerstone WebAssembly decoders share. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type Factory<M> = (opts: { print: (s: string) => void; printErr: (s: string) => void }) => Promise<M>;

const require = createRequire(import.meta.url);
const modules = new Map<string, Promise<unknown>>();

function loadModule<M>(id: string): Promise<M> {
  let m = modules.get(id);
  if (!m) {
    const factory = require(id) as Factory<M>;
    // the codecs may log per frame; keep stdout for the CLI's own output
    m = factory({ print: () => {}, printErr: () => {} });
    modules.set(id, m);
  }
  return m as Promise<M>;
}

async function decodeWasm(make: () => WasmDecoder, frame: Uint8Array): Promise<JpegFrame> {
  const dec = make();
  try {
    dec.getEncodedBuffer(frame.length).set(frame);
    dec.decode();
    const info = dec.getFrameInfo();
    return {
      width: info.width,
      height: info.height,
      bitsPerSample: info.bitsPerSample,
      componentCount: info.componentCount,
      bytes: dec.getDecodedBuffer().slice(),
    };
  } finally {
    dec.delete();
  }
}

/** A codec failure (embind throws numbers or strings too) as one readable message. */
function reason(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'number' ? `codec error ${e}` : String(e);
}

/** JPEG baseline / extended with 8-bit samples (libjpeg-turbo). */
export async function decodeJpegBaseline(frame: Uint8Array): Promise<JpegFrame> {
  const m = await loadModule<{ JPEGDecoder: new () => WasmDecoder }>(
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
  );
  try {
    return await decodeWasm(() => new m.JPEGDecoder(), frame);
  } catch (e) {
    throw new Error(reason(e));
  }
}

/** JPEG-LS lossless and near-lossless (CharLS). */
export async function decodeJpegLs(frame: Uint8Array): Promise<JpegFrame> {
  const m = await loadModule<{ JpegLSDecoder: new () => WasmDecoder }>(
    '@cornerstonejs/codec-charls/decodewasmjs',
  );
  try {
    return await decodeWasm(() => new m.JpegLSDecoder(), frame);
  } catch (e) {
    throw new Error(reason(e));
  }
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  precision: number;
  numComp: number;
}

/** JPEG lossless, processes 14 and 14 SV1 (jpeg-lossless-decoder-js, plain JavaScript). */
export function decodeJpegLossless(frame: Uint8Array): Promise<JpegFrame> {
  const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };
  const dec = new Decoder();
  // the decoder reads an ArrayBuffer: give it exactly the frame's bytes
  const copy = frame.slice();
  let out: Uint8Array | Uint16Array;
  try {
    out = dec.decode(copy.buffer, 0, copy.byteLength);
  } catch (e) {
    return Promise.reject(new Error(reason(e)));
  }
  return Promise.resolve({
    width: dec.xDim,
    height: dec.yDim,
    bitsPerSample: dec.precision,
    componentCount: dec.numComp,
    bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice(),
  });
}

/** The decoder of a JPEG-family transfer syntax, or undefined when there is none. */
export function jpegDecoderFor(syntax: string): ((frame: Uint8Array) => Promise<JpegFrame>) | undefined {
  switch (syntax) {
    case '1.2.840.10008.1.2.4.50':
    case '1.2.840.10008.1.2.4.51':
      return decodeJpegBaseline;
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70':
      return decodeJpegLossless;
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      return decodeJpegLs;
    default:
      return undefined;
  }
}
