// Prediction: images → label maps in the input's own geometry, with the trained model folder's
// plans and checkpoints (folds ensembled by averaging probabilities, optional mirroring).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Tensor,
  tidy,
  noGrad,
  keep,
  F,
  setThreads,
  stack,
  indexSelect,
  type AutocastDType,
} from '../engine/index.js';
import { readImage, writeImage } from '../io/image.js';
import type { Volume } from '../io/volume.js';
import { channelOf } from '../dataset/volumes.js';
import { UNet } from '../nn/index.js';
import type { Plans, ConfigurationName } from '../plan/planner.js';
import { arraySpacing, channelsToTensor, labelsToVolume } from '../preprocess/volumeTensor.js';
import { preprocessCase, revertProbabilities } from '../preprocess/preprocessCase.js';
import { loadCheckpoint } from '../train/trainer.js';
import { slidingWindowLogits } from './slidingWindow.js';
import { findInputCases, type InputCase } from './inputs.js';

export interface PredictOptions {
  input: string;
  /** An output file (single input case) or folder. */
  output: string;
  modelDir: string;
  config?: ConfigurationName;
  folds?: number[];
  checkpoint?: 'best' | 'latest';
  mirror?: boolean;
  autocast?: AutocastDType | null;
  /** Also write the class probabilities as a 4D float32 NIfTI next to each label map. */
  saveProbabilities?: boolean;
  threads?: number;
  log?: (s: string) => void;
}

export interface PredictResult {
  cases: { id: string; output: string; seconds: number }[];
}

async function readChannels(c: InputCase, channels: number): Promise<Volume[]> {
  const vols: Volume[] = [];
  for (const f of c.files) {
    const v = await readImage(f);
    const nt = v.shape.length > 3 ? v.shape[3]! : 1;
    for (let i = 0; i < nt; i++) vols.push(nt > 1 ? channelOf(v, i) : v);
  }
  if (vols.length !== channels) {
    throw new Error(`${c.files.join(', ')}: ${vols.length} channel(s) given, the model expects ${channels}`);
  }
  const shape = vols[0]!.shape.slice(0, 3).join('x');
  vols.forEach((v, i) => {
    if (v.shape.slice(0, 3).join('x') !== shape) {
      throw new Error(
        `${c.files[Math.min(i, c.files.length - 1)]}: channel ${i} has shape ${v.shape.slice(0, 3).join('x')}, channel 0 has ${shape}`,
      );
    }
  });
  return vols;
}

export async function predict(o: PredictOptions): Promise<PredictResult> {
  const log = o.log ?? (() => {});
  setThreads(o.threads);
  const plansFile = path.join(o.modelDir, 'plans.json');
  if (!existsSync(plansFile)) throw new Error(`${o.modelDir}: not a medseg model folder (no plans.json)`);
  const plans = JSON.parse(await readFile(plansFile, 'utf8')) as Plans;
  const configName = o.config ?? '3d_fullres';
  const config = plans.configurations[configName];
  if (!config) throw new Error(`${plansFile}: no configuration '${configName}'`);
  const folds = o.folds ?? [0];
  const which = o.checkpoint ?? 'best';
  const nets: UNet[] = [];
  for (const f of folds) {
    const file = path.join(o.modelDir, configName, `fold_${f}`, `checkpoint_${which}.safetensors`);
    if (!existsSync(file)) throw new Error(`${file}: checkpoint missing (was fold ${f} trained?)`);
    const net = new UNet({ ...config.network, deepSupervision: false });
    await loadCheckpoint(file, net);
    nets.push(net.eval());
  }
  const cases = findInputCases(o.input);
  const single = cases.length === 1 && /\.(nii|nii\.gz|nrrd)$/i.test(o.output);
  if (!single) await mkdir(o.output, { recursive: true });
  const ending = '.nii.gz';
  const results: PredictResult['cases'] = [];
  try {
    for (const c of cases) {
      const t0 = performance.now();
      const out = single ? o.output : path.join(o.output, `${c.id}${ending}`);
      if (c.files.some((f) => path.resolve(f) === path.resolve(out)))
        throw new Error(`${out}: refusing to overwrite an input`);
      const vols = await readChannels(c, plans.channelNames.length);
      const spacing = arraySpacing(vols[0]!);
      const ratio = spacing.map((s, d) => s / config.spacing[d]!);
      if (ratio.some((r) => r > 4 || r < 0.25)) {
        log(
          `warning: ${c.files[0]}: spacing ${spacing.map((s) => s.toFixed(2)).join('x')} mm is far from the plan's ${config.spacing.map((s) => s.toFixed(2)).join('x')}`,
        );
      }
      const probs = tidy(() =>
        noGrad(() => {
          const image = channelsToTensor(vols);
          const pre = preprocessCase(image, null, spacing, {
            targetSpacing: config.spacing,
            normalization: config.normalization,
            imageInterpolation: config.imageInterpolation,
            numClasses: plans.labelValues.length,
          });
          let sum: Tensor | null = null;
          const is2d = config.network.dims === 2;
          for (const net of nets) {
            const logits = is2d
              ? slices2d(net, pre.image, config.patch, plans.labelValues.length, o)
              : slidingWindowLogits(net, pre.image, {
                  patch: config.patch,
                  numClasses: plans.labelValues.length,
                  mirrorAxes: o.mirror ? [0, 1, 2] : [],
                  autocast: o.autocast ?? null,
                });
            const p = F.softmax(logits, 0);
            logits.dispose();
            sum = sum ? sum.add_(p) : p;
          }
          if (nets.length > 1) sum!.div_(nets.length);
          return revertProbabilities(sum!, pre.record, config.spacing);
        }),
      );
      keep(probs);
      const labels = tidy(() => {
        const idx = probs.argmax(0);
        const lut = Tensor.fromArray(BigInt64Array.from(plans.labelValues.map(BigInt)), [
          plans.labelValues.length,
        ]);
        return indexSelect(lut, 0, idx.flatten()).reshape(...idx.shape);
      });
      await writeImage(out, labelsToVolume(labels, vols[0]!));
      if (o.saveProbabilities) {
        // [K, z, y, x] in C order is x fastest, then y, z, K: NIfTI's 4D order
        const arr = tidy(() => probs.contiguous().toArray() as Float32Array);
        const v0 = vols[0]!;
        await writeImage(out.replace(/\.nii(\.gz)?$/, '') + '_probabilities.nii.gz', {
          ...v0,
          data: arr,
          shape: [...v0.shape.slice(0, 3), plans.labelValues.length],
          datatype: 'float32',
          sclSlope: 1,
          sclInter: 0,
        });
      }
      labels.dispose();
      probs.dispose();
      const seconds = (performance.now() - t0) / 1000;
      results.push({ id: c.id, output: out, seconds });
      log(`${c.id} → ${out} (${seconds.toFixed(1)} s)`);
    }
  } finally {
    for (const n of nets) n.dispose();
  }
  return { cases: results };
}

/** 2d configurations: the network over every z slice (windows within each slice). */
function slices2d(net: UNet, image: Tensor, patch: number[], classes: number, o: PredictOptions): Tensor {
  return tidy(() => {
    const outs: Tensor[] = [];
    for (let z = 0; z < image.shape[1]!; z++) {
      const s = image.select(1, z);
      outs.push(
        slidingWindowLogits(net, s, {
          patch,
          numClasses: classes,
          mirrorAxes: o.mirror ? [0, 1] : [],
          autocast: o.autocast ?? null,
        }),
      );
    }
    return stack(outs, 1);
  });
}
