// `medseg import tfjs MODEL_JSON -o DIR`: a TensorFlow.js MeshNet (brainchop) as a medseg export
// folder — the network as ONNX plus export.json (1 mm, min-max rescaling as brainchop does, the
// whole conformed volume as one window) — that `medseg predict -m DIR` runs. Needs no libtorch; the
// same weights load into nn/meshnet.ts's MeshNet for the libtorch engine (readTfjsModel).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeModel, ONNX_OPSET } from '../export/onnx.js';
import { meshnetGraph } from '../export/meshnetGraph.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, type ExportManifest } from '../export/manifest.js';
import { readTfjsModel, type TfjsModel } from './tfjs.js';

export interface ImportTfjsOptions {
  modelJson: string;
  output: string;
  /** Volume axes as brainchop feeds them: [x, y, z] (its enableTranspose; default true). */
  transpose?: boolean;
  /** Window size (z, y, x); default the model's declared input shape, else 256³. */
  patch?: number[];
  log?: (s: string) => void;
}

export async function importTfjs(o: ImportTfjsOptions): Promise<{ manifestFile: string; model: TfjsModel }> {
  const model = readTfjsModel(o.modelJson, { transpose: o.transpose ?? true });
  const patch = o.patch ?? model.inputShape ?? [256, 256, 256];
  await mkdir(o.output, { recursive: true });
  const file = 'meshnet.onnx';
  const bytes = encodeModel(meshnetGraph(model.spec, model.weights, patch), {
    docString: `MeshNet imported from ${path.resolve(o.modelJson)}`,
  });
  await writeFileAtomic(path.join(o.output, file), bytes);
  const K = model.spec.numClasses;
  const labelValues = Array.from({ length: K }, (_, k) => k);
  const manifest: ExportManifest = {
    format: MANIFEST_FORMAT,
    version: 1,
    opset: ONNX_OPSET,
    convTranspose: 'native',
    dataset: path.basename(path.dirname(path.resolve(o.modelJson))),
    channelNames: Array.from({ length: model.spec.inputChannels }, (_, i) => (i ? `input${i}` : 'T1')),
    labelValues,
    labelNames: Object.fromEntries(
      labelValues.map((v) => [String(v), model.labelNames?.[v] ?? (v ? `label ${v}` : 'background')]),
    ),
    members: ['3d_fullres'],
    configurations: [
      {
        name: '3d_fullres',
        dims: 3,
        spacing: [1, 1, 1],
        patch,
        normalization: Array.from({ length: model.spec.inputChannels }, () => ({
          scheme: 'rescale' as const,
        })),
        imageInterpolation: 'linear',
        inputChannels: model.spec.inputChannels,
        numClasses: K,
        folds: [
          {
            fold: 0,
            file,
            bytes: bytes.length,
            checkpoint: { file: path.resolve(o.modelJson), bytes: 0, mtimeMs: 0 },
          },
        ],
      },
    ],
    postprocessing: null,
    slidingWindow: { step: 0.5, sigmaScale: 1 / 8, batch: 1, mirrorAxes3d: [0, 1, 2], mirrorAxes2d: [0, 1] },
    source: { modelDir: path.resolve(o.modelJson), checkpoint: 'best', exportedAt: new Date().toISOString() },
  };
  const manifestFile = path.join(o.output, MANIFEST_NAME);
  await writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2));
  o.log?.(
    `${o.modelJson} → ${o.output}: MeshNet, ${model.spec.layers.length} convolutions, ${K} classes, window ${patch.join('×')}`,
  );
  return { manifestFile, model };
}
