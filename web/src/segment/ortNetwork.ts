// An exported network run by onnxruntime-web: WebGPU where the browser has an adapter and the export
// can run there (its transposed convolutions exported as conv + depth-to-space, `medseg export
// --webgpu`), else WebAssembly. The runtime's own .wasm/.mjs files are served by the page's own
// server (copied into dist-web/ort/ by the Vite build): no CDN, works offline. Every ORT tensor is
// released as soon as its values are copied out, so a long sliding window does not pile them up.
import * as ort from 'onnxruntime-web';
import type { ExportManifest } from '../../../src/export/manifest';
import { INPUT_NAME, OUTPUT_NAME } from '../../../src/export/names';
import type { WindowNetwork } from '../../../src/deploy/pipeline';
import {
  checkOnnxBytes,
  checkSignature,
  type NetworkExpectation,
  type SessionSignature,
} from '../../../src/deploy/signature';

export type Backend = 'webgpu' | 'wasm';

let configured = false;
/** WebAssembly threads: several where the page is cross-origin isolated (medseg serve makes it so). */
export const wasmThreads = () =>
  globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
function configure(): void {
  if (configured) return;
  ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
  // threads need a cross-origin isolated page (SharedArrayBuffer); otherwise one
  ort.env.wasm.numThreads = wasmThreads();
  configured = true;
}

/** The backend to try first, and why (said in the page). */
export async function preferredBackend(m: ExportManifest): Promise<{ backend: Backend; why: string }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { backend: 'wasm', why: 'this browser has no WebGPU' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { backend: 'wasm', why: 'WebGPU has no adapter here' };
  if (m.convTranspose !== 'depthToSpace')
    return {
      backend: 'wasm',
      why: "the export's ConvTranspose3d does not run on WebGPU (export with medseg export --webgpu)",
    };
  return { backend: 'webgpu', why: 'WebGPU adapter found' };
}

export class WebNetwork implements WindowNetwork {
  private constructor(
    readonly file: string,
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    private readonly o: NetworkExpectation,
  ) {}

  /** Checks the bytes (truncated?), opens a session on `backend`, checks its signature. */
  static async load(
    bytes: Uint8Array,
    file: string,
    o: NetworkExpectation,
    backend: Backend,
  ): Promise<WebNetwork> {
    checkOnnxBytes(bytes, file);
    configure();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [backend],
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new Error(
        `${file}: ONNX Runtime (${backend}) cannot load it (${String((e as Error).message ?? e).split('\n')[0]})`,
      );
    }
    try {
      checkSignature(session as unknown as SessionSignature, file, o);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new WebNetwork(file, session, backend, o);
  }

  async run(windows: Float32Array, n: number): Promise<Float32Array> {
    const input = new ort.Tensor('float32', windows, [n, this.o.inputChannels, ...this.o.patch]);
    let out: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      out = await this.session.run({ [INPUT_NAME]: input });
      const t = out[OUTPUT_NAME]!;
      // a copy: the tensor's buffer goes back to the runtime on dispose
      return (
        t.location === 'cpu' ? (t.data as Float32Array) : ((await t.getData()) as Float32Array)
      ).slice();
    } finally {
      input.dispose();
      if (out) for (const v of Object.values(out)) v.dispose();
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
