// One exported network run by onnxruntime-node: loaded lazily (the package is an optional
// dependency), checked before the runtime sees it (a truncated file, a network for another channel
// count: one line naming the file), and called on batches of windows.
import { readFile } from 'node:fs/promises';
import { summarizeModel } from '../export/onnx.js';
import { ProtoError } from '../export/protobuf.js';
import { INPUT_NAME, OUTPUT_NAME } from '../export/names.js';

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | null = null;

/** onnxruntime-node, or one clear error when it is not installed. */
export async function loadOrt(): Promise<Ort> {
  if (ortModule) return ortModule;
  try {
    ortModule = (await import('onnxruntime-node')) as Ort;
  } catch (e) {
    throw new Error(
      `onnxruntime-node is not installed (npm install onnxruntime-node --onnxruntime-node-install=skip): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return ortModule;
}

export interface OnnxNetworkOptions {
  threads?: number;
  /** What the caller expects: [C, ...patch] of the input, K of the output. */
  inputChannels: number;
  numClasses: number;
  patch: number[];
}

export class OnnxNetwork {
  private constructor(
    readonly file: string,
    private readonly ort: Ort,
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly o: OnnxNetworkOptions,
  ) {}

  static async load(file: string, o: OnnxNetworkOptions): Promise<OnnxNetwork> {
    const bytes = await readFile(file);
    try {
      summarizeModel(bytes);
    } catch (e) {
      if (e instanceof ProtoError)
        throw new Error(`${file}: not a complete ONNX model (${e.message}; truncated or not ONNX?)`);
      throw e;
    }
    const ort = await loadOrt();
    let session: import('onnxruntime-node').InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        ...(o.threads ? { intraOpNumThreads: o.threads } : {}),
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new Error(`${file}: ONNX Runtime cannot load it (${(e as Error).message.split('\n')[0]})`);
    }
    const net = new OnnxNetwork(file, ort, session, o);
    net.checkSignature();
    return net;
  }

  /** The graph's declared input/output against what export.json says. */
  private checkSignature(): void {
    const s = this.session as unknown as {
      inputNames: readonly string[];
      outputNames: readonly string[];
      inputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[];
      outputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[];
    };
    if (!s.inputNames.includes(INPUT_NAME) || !s.outputNames.includes(OUTPUT_NAME))
      throw new Error(
        `${this.file}: not a medseg export (inputs ${s.inputNames.join(', ')}, outputs ${s.outputNames.join(', ')}; expected ${INPUT_NAME} → ${OUTPUT_NAME})`,
      );
    const want = [this.o.inputChannels, ...this.o.patch];
    const input = s.inputMetadata?.find((m) => m.name === INPUT_NAME);
    if (input?.shape) {
      const got = input.shape.slice(1);
      if (got.length !== want.length || got.some((d, i) => typeof d === 'number' && d !== want[i]))
        throw new Error(
          `${this.file}: the network takes [${got.join(', ')}] (channels, patch), export.json says [${want.join(', ')}] (an export for another channel count or patch?)`,
        );
    }
    const output = s.outputMetadata?.find((m) => m.name === OUTPUT_NAME);
    if (output?.shape && typeof output.shape[1] === 'number' && output.shape[1] !== this.o.numClasses)
      throw new Error(
        `${this.file}: the network gives ${output.shape[1]} classes, export.json says ${this.o.numClasses}`,
      );
  }

  /** Logits [n, K, ...patch] of windows [n, C, ...patch]. */
  async run(windows: Float32Array, n: number): Promise<Float32Array> {
    const shape = [n, this.o.inputChannels, ...this.o.patch];
    const input = new this.ort.Tensor('float32', windows, shape);
    const out = await this.session.run({ [INPUT_NAME]: input });
    const t = out[OUTPUT_NAME]!;
    const data = t.data as Float32Array;
    input.dispose?.();
    return data;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
