// The layers import one way: every import between two folders of src/ goes from a higher layer to a
// lower one (DEVELOPERS.md: io → dataset → plan → preprocess → train → infer → postprocess → evaluate
// → report, with the shared foundations beneath and cli/ on top). A new folder must be given its
// place here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Higher may import lower; equal ranks are siblings that must not import each other. */
export const LAYERS: Record<string, number> = {
  common: 0, // seeded RNG, statistics
  engine: 1,
  io: 1,
  labelmap: 2, // connected components, Dice, applying a post-processing recipe
  grid: 2, // volumes as tensors, boxes and crops
  nn: 2,
  optim: 2,
  distributed: 2, // data-parallel training: c10d process groups, bucketed gradient all-reduce, the rank launcher
  dataset: 3,
  plan: 4,
  synth: 4,
  preprocess: 5,
  train: 6,
  infer: 7,
  crossval: 8, // train + out-of-fold prediction
  multitask: 9, // multi-task training, Reptile/FOMAML meta-training (train's parts, per-task heads)
  postprocess: 8,
  export: 8, // ONNX export of trained models (+ export.json)
  evaluate: 9,
  transfer: 10, // fine-tuning (over crossval's train; from multi-task models' task views) and model packages
  search: 9, // hyper-parameter search and the job queue: trials train, jobs train folds and predict
  deploy: 9, // prediction from an ONNX export with onnxruntime-node (no libtorch)
  importers: 9, // other tools' models (TensorFlow.js MeshNets) as ONNX exports
  report: 10,
  bench: 10,
  web: 11, // medseg serve: the viewer's server (reads report/'s evaluation records)
  demo: 11,
  cli: 12,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string | null {
  const rel = path.relative(src, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : null; // src/index.ts is the package's top
}

test('every import between src/ folders goes down the layers', () => {
  const problems: string[] = [];
  for (const file of tsFiles(src)) {
    const from = layerOf(file);
    if (from === null) continue;
    if (!(from in LAYERS)) {
      problems.push(`src/${from}/ has no layer: give it its place in test/layers.test.ts`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const to = layerOf(path.resolve(path.dirname(file), m[1]!));
      if (to === null || to === from || !(to in LAYERS)) continue;
      if (LAYERS[to]! >= LAYERS[from]!)
        problems.push(`${path.relative(src, file)} imports ${m[1]} (${from} → ${to} goes up or sideways)`);
    }
  }
  assert.deepEqual([...new Set(problems)], []);
});
