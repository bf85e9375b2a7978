// JPEG 2000 frames (DICOM transfer syntaxes 1.2.840.10008.1.2.4.90/.91) through OpenJPEG compiled to
// WebAssembly (@cornerstonejs/codec-openjpeg). The module is loaded on first use only; decoding one
// frame is synchronous inside the module.
import { createRequire } from 'node:module';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

type Factory = (opts: {
  print: (s: string) => void;
  printErr: (s: string) => void;
}) => Promise<OpenJpegModule>;

let loading: Promise<OpenJpegModule> | undefined;

function load(): Promise<OpenJpegModule> {
  if (!loading) {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as Factory;
    // The codec logs "[INFO] ..." lines for every frame; keep stdout for the CLI's own output.
    loading = factory({ print: () => {}, printErr: () => {} });
  }
  return loading;
}

export interface DecodedFrame extends FrameInfo {
  /** Samples in host byte order: 1 byte each up to 8 bits, else 2 bytes (a copy owned by the caller). */
  bytes: Uint8Array;
}

/** Decodes one JPEG 2000 codestream; throws the codec's error as an Error. */
export async function decodeJ2K(frame: Uint8Array): Promise<DecodedFrame> {
  const m = await load();
  const dec = new m.J2KDecoder();
  try {
    dec.getEncodedBuffer(frame.length).set(frame);
    dec.decode();
    const info = dec.getFrameInfo();
    return { ...info, bytes: dec.getDecodedBuffer().slice() };
  } finally {
    dec.delete();
  }
}
