// `medseg demo`: the whole pipeline on a synthetic task — write the dataset, plan, train fold 0
// within a time budget, predict its validation cases, evaluate and write the HTML report.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { findTask, writeSynthDataset } from '../synth/index.js';
import { plan } from '../plan/run.js';
import { writePlans } from '../plan/planner.js';
import { train } from '../crossval/train.js';
import { predict } from '../infer/predict.js';
import { evaluateFolders } from '../evaluate/folders.js';
import { writeEvaluationRecord, writeReport } from '../report/report.js';
import type { Split } from '../train/splits.js';
import { readFile } from 'node:fs/promises';

export interface DemoOptions {
  workDir: string;
  task?: string;
  size?: 'tiny' | 'small' | 'realistic';
  cases?: number;
  /** Training wall-clock budget, seconds. */
  budgetSeconds?: number;
  itersPerEpoch?: number;
  seed?: number;
  log?: (s: string) => void;
}

export interface DemoResult {
  dataset: string;
  modelDir: string;
  report: string;
  meanDice: Record<string, number | null>;
  epochs: number;
  seconds: number;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const task = findTask(o.task ?? 'hippocampus');
  await rm(o.workDir, { recursive: true, force: true });
  const data = await writeSynthDataset(task, path.join(o.workDir, 'data'), {
    seed: o.seed ?? 0,
    size: o.size ?? 'small',
    cases: o.cases ?? 10,
  });
  log(`synthetic ${task.name} dataset: ${data.dir}`);
  const modelDir = path.join(o.workDir, 'model');
  const planned = await plan(data.dir, modelDir, { memoryGb: 2, log });
  // Plans are data: the demo edits them for a 2-core CPU (half the features, capped at 128), as a
  // user may edit plans.json by hand before training.
  const c = planned.plans.configurations['3d_fullres']!;
  c.network.features = c.network.features.map((_, i) => Math.min(16 * 2 ** i, 128));
  await writePlans(modelDir, planned.plans);
  log(
    `3d_fullres: spacing ${c.spacing.map((s) => s.toFixed(2)).join('x')} mm, patch ${c.patch.join('x')}, batch ${c.batchSize}`,
  );
  const trained = await train({
    dataset: data.dir,
    modelDir,
    config: '3d_fullres',
    fold: 0,
    budgetSeconds: o.budgetSeconds ?? 180,
    itersPerEpoch: o.itersPerEpoch ?? 20,
    // A few hundred steps instead of nnU-Net's 250,000: AdamW converges much faster from scratch.
    optimizer: 'adamw',
    initialLr: 3e-3,
    seed: o.seed ?? 0,
    // the demo predicts the validation cases itself below, with the public predict()
    validate: false,
    log,
  });
  // fold 0's validation cases: predicted with the trained model, evaluated against their labels
  const splits = JSON.parse(await readFile(path.join(modelDir, 'splits.json'), 'utf8')) as Split[];
  const val = splits[0]!.val;
  const predDir = path.join(o.workDir, 'predictions');
  const refDir = path.join(o.workDir, 'reference');
  await mkdir(refDir, { recursive: true });
  await mkdir(predDir, { recursive: true });
  for (const id of val) {
    await predict({
      input: path.join(data.dir, 'imagesTr', `${id}_0000.nii.gz`),
      output: path.join(predDir, `${id}.nii.gz`),
      modelDir,
      log,
    });
    await copyFile(path.join(data.dir, 'labelsTr', `${id}.nii.gz`), path.join(refDir, `${id}.nii.gz`));
  }
  const report = await evaluateFolders({ predDir, refDir });
  await writeEvaluationRecord(modelDir, {
    config: '3d_fullres',
    fold: 0,
    imagesDir: path.join(data.dir, 'imagesTr'),
    predDir,
    refDir,
    report,
  });
  const html = await writeReport(modelDir);
  const meanDice = Object.fromEntries(Object.entries(report.mean).map(([k, m]) => [k, m.dice]));
  return {
    dataset: data.dir,
    modelDir,
    report: html,
    meanDice,
    epochs: trained.epochs,
    seconds: (performance.now() - t0) / 1000,
  };
}
