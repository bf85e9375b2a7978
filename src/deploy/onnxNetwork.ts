// One exported network run by onnxruntime-node: loaded lazily (the package is an optional
// dependency), checked before the runtime sees it (a truncated file, a network for another channel
// count: one line naming the file), and called on batches of windows.
import { readFile } from 'node:fs/promises';
import { INPUT_NAME, OUTPUT_NAME } from '../export/names.js';
import { checkOnnxBytes, checkSignature, type SessionSignature } from './signature.js';

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
    checkOnnxBytes(bytes, file);
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
    checkSignature(this.session as unknown as SessionSignature, this.file, this.o);
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
