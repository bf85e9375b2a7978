// The table of CLI commands. Each module is imported only when its command runs, so `medseg --help`
// and the I/O commands start without loading libtorch.
import type { Command } from './command.js';

interface Entry {
  summary: string;
  load: () => Promise<{ command: Command }>;
}

export const commands: Record<string, Entry> = {
  bench: { summary: 'benchmarks: train-step, sliding-window', load: () => import('./bench.js') },
  demo: { summary: 'a tiny end-to-end demo on synthetic data', load: () => import('./demo.js') },
  inspect: { summary: 'print a volume header and statistics', load: () => import('./inspect.js') },
  convert: { summary: 'convert a volume between formats', load: () => import('./convert.js') },
  dataset: { summary: 'check, convert and build datasets', load: () => import('./dataset.js') },
  plan: { summary: 'fingerprint a dataset and write plans.json', load: () => import('./plan.js') },
  train: { summary: 'train one fold of a configuration', load: () => import('./train.js') },
  predict: { summary: 'segment images with a trained model', load: () => import('./predict.js') },
  'find-best': {
    summary: 'choose configuration, ensemble and post-processing from cross-validation',
    load: () => import('./findBest.js'),
  },
  evaluate: {
    summary: 'Dice, HD95, NSD of predictions against references',
    load: () => import('./evaluate.js'),
  },
  report: { summary: 'an HTML report of a model folder', load: () => import('./report.js') },
  serve: {
    summary: 'a web viewer of a model: cases, overlays, metrics, curves',
    load: () => import('./serve.js'),
  },
  synth: { summary: 'write the synthetic decathlon (nnU-Net v2)', load: () => import('./synth.js') },
  info: { summary: 'libtorch build, GPUs, CPU features and threads', load: () => import('./info.js') },
  finetune: {
    summary: 'train a dataset starting from another model (folder or package)',
    load: () => import('./finetune.js'),
  },
  package: { summary: 'write a model folder as one .medseg file', load: () => import('./package.js') },
  search: {
    summary: 'hyper-parameter search (TPE, ASHA) over plan and trainer options',
    load: () => import('./search.js'),
  },
  worker: {
    summary: 'take jobs (trials, folds, predict shards) from a store',
    load: () => import('./worker.js'),
  },
  queue: { summary: 'queue folds or predict shards for medseg worker', load: () => import('./queue.js') },
  export: { summary: 'export a trained model as ONNX (+ export.json)', load: () => import('./export.js') },
  import: {
    summary: "import another tool's model (tfjs: brainchop's MeshNets)",
    load: () => import('./import.js'),
  },
  'train-multi': {
    summary: 'train one network over several datasets (shared body, per-task heads)',
    load: () => import('./trainMulti.js'),
  },
  'meta-train': {
    summary: 'meta-learn an initialisation over several datasets (Reptile / FOMAML)',
    load: () => import('./metaTrain.js'),
  },
};
