// The checks an exported network passes before it is run, shared by onnxruntime-node (onnxNetwork.ts)
// and onnxruntime-web (the in-browser page): the bytes parse as a whole ModelProto (a truncated file
// is named as such, not left to the runtime's terse error), and the session's declared input and
// output agree with export.json (a network for another channel count or patch is refused).
import { summarizeModel } from '../export/onnx.js';
import { ProtoError } from '../export/protobuf.js';
import { INPUT_NAME, OUTPUT_NAME } from '../export/names.js';

export interface NetworkExpectation {
  /** What export.json says: [C, ...patch] of the input, K of the output. */
  inputChannels: number;
  numClasses: number;
  patch: number[];
}

/** The part of an ONNX Runtime session (node or web) the signature check reads. */
export interface SessionSignature {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly { name: string; isTensor?: boolean; shape?: readonly (number | string)[] }[];
  outputMetadata?: readonly { name: string; isTensor?: boolean; shape?: readonly (number | string)[] }[];
}

/** Throws one line naming `file` when `bytes` are not a complete ONNX model. */
export function checkOnnxBytes(bytes: Uint8Array, file: string): void {
  try {
    summarizeModel(bytes);
  } catch (e) {
    if (e instanceof ProtoError)
      throw new Error(`${file}: not a complete ONNX model (${e.message}; truncated or not ONNX?)`);
    throw e;
  }
}

/** The session's declared input/output against export.json. */
export function checkSignature(s: SessionSignature, file: string, o: NetworkExpectation): void {
  if (!s.inputNames.includes(INPUT_NAME) || !s.outputNames.includes(OUTPUT_NAME))
    throw new Error(
      `${file}: not a medseg export (inputs ${s.inputNames.join(', ')}, outputs ${s.outputNames.join(', ')}; expected ${INPUT_NAME} → ${OUTPUT_NAME})`,
    );
  const want = [o.inputChannels, ...o.patch];
  const input = s.inputMetadata?.find((m) => m.name === INPUT_NAME);
  if (input?.shape) {
    const got = input.shape.slice(1);
    if (got.length !== want.length || got.some((d, i) => typeof d === 'number' && d !== want[i]))
      throw new Error(
        `${file}: the network takes [${got.join(', ')}] (channels, patch), export.json says [${want.join(', ')}] (an export for another channel count or patch?)`,
      );
  }
  const output = s.outputMetadata?.find((m) => m.name === OUTPUT_NAME);
  if (output?.shape && typeof output.shape[1] === 'number' && output.shape[1] !== o.numClasses)
    throw new Error(
      `${file}: the network gives ${output.shape[1]} classes, export.json says ${o.numClasses}`,
    );
}
