// From a dataset folder to what training reads: the dataset check (a failing dataset is refused
// with its report), fingerprint.json, plans.json (kept when present: plans are the user's to edit)
// and the preprocessed cases of one configuration.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { tidy } from '../engine/index.js';
import { assertDatasetValid } from '../dataset/check.js';
import { readCaseVolumes } from '../dataset/volumes.js';
import type { Dataset } from '../dataset/types.js';
import { computeFingerprint, writeFingerprint, type Fingerprint } from '../plan/fingerprint.js';
import { readFingerprint, readPlans } from '../plan/schema.js';
import {
  planDataset,
  writePlans,
  type Plans,
  type ConfigurationName,
  type Configuration,
} from '../plan/planner.js';
import { arraySpacing, channelsToTensor, labelsToTensor, toClassIndices } from '../grid/volumeTensor.js';
import { preprocessCase } from '../preprocess/preprocessCase.js';
import { storeCase, loadStoredCase, type StoredCase } from '../preprocess/store.js';
import { withPrior } from '../preprocess/prior.js';
import { cropTo } from '../grid/crop.js';
import { writeFileAtomic } from '../io/atomic.js';
import { cropBoxes } from '../preprocess/cascadeBoxes.js';
import { loadOrCreateSplits } from './splits.js';
import { assertWritableModelFolder } from './preflight.js';
import {
  foldOfCase,
  oofLabelFile,
  readOutOfFoldClasses,
  readOutOfFoldSummary,
  validationDir,
} from './outOfFold.js';

export interface Prepared {
  configName: ConfigurationName;
  dataset: Dataset;
  fingerprint: Fingerprint;
  plans: Plans;
  config: Configuration;
  preprocessedDir: string;
  cases: StoredCase[];
}

export interface PrepareOptions {
  memoryGb?: number;
  log?: (s: string) => void;
}

export async function prepare(
  datasetDir: string,
  modelDir: string,
  configName: ConfigurationName,
  o: PrepareOptions = {},
): Promise<Prepared> {
  const log = o.log ?? (() => {});
  await assertWritableModelFolder(modelDir);
  const dataset = await assertDatasetValid(datasetDir);
  const fpFile = path.join(modelDir, 'fingerprint.json');
  let fingerprint: Fingerprint;
  if (existsSync(fpFile)) fingerprint = await readFingerprint(fpFile);
  else {
    log('fingerprint: reading every case once');
    fingerprint = await computeFingerprint(dataset, (i, n, id) => log(`fingerprint ${i + 1}/${n} ${id}`));
    await writeFingerprint(modelDir, fingerprint);
  }
  const plansFile = path.join(modelDir, 'plans.json');
  let plans: Plans;
  if (existsSync(plansFile)) plans = await readPlans(plansFile);
  else {
    plans = planDataset(fingerprint, { memoryGb: o.memoryGb });
    await writePlans(modelDir, plans);
    log(`plans written to ${plansFile}`);
  }
  const config = plans.configurations[configName];
  if (!config) {
    throw new Error(
      `${plansFile} has no configuration '${configName}' (it has ${Object.keys(plans.configurations).join(', ')})`,
    );
  }
  const preprocessedDir = path.join(modelDir, 'preprocessed', configName);
  const cases: StoredCase[] = [];
  // Reading (gunzip runs on libuv's threads) of the next case overlaps preprocessing of this one.
  const pending = new Map<number, ReturnType<typeof readCaseVolumes>>();
  const readAhead = (i: number) => {
    const c = dataset.training[i];
    if (c && !pending.has(i)) pending.set(i, readCaseVolumes(c));
  };
  // The cascade's second stage trains on stage 1's out-of-fold predictions, never the reference.
  const cascade = config.cascade;
  const splits = cascade
    ? await loadOrCreateSplits(
        modelDir,
        dataset.training.map((c) => c.id),
      )
    : [];
  if (cascade) {
    const missing: number[] = [];
    for (let f = 0; f < splits.length; f++)
      if (!(await readOutOfFoldSummary(modelDir, cascade.previousStage, f))) missing.push(f);
    if (missing.length) {
      throw new Error(
        `${configName} trains on ${cascade.previousStage}'s out-of-fold predictions, which are missing or stale for ` +
          `fold(s) ${missing.join(', ')} in ${path.join(modelDir, cascade.previousStage)}: ` +
          `train them first (medseg train DATASET --config ${cascade.previousStage} --fold all)`,
      );
    }
  }
  const K = plans.labelValues.length;
  const plan = {
    targetSpacing: config.spacing,
    normalization: config.normalization,
    crop: config.crop,
    imageInterpolation: config.imageInterpolation,
    labelInterpolation: config.labelInterpolation,
    numClasses: K,
  };
  // a cached case is reused only for the same files, unchanged since, and the same preprocessing:
  // an edited plans.json or a replaced image is preprocessed again
  const planKey = `preprocess ${JSON.stringify(plan)}`;
  const fileKey = (f: string) => {
    const st = statSync(f);
    return `${f}@${st.size}@${st.mtimeMs}`;
  };
  for (const [i, c] of dataset.training.entries()) {
    const source = [
      ...c.channels.map((ch) => fileKey(ch.path)),
      ...(c.label ? [fileKey(c.label)] : []),
      planKey,
    ];
    if (cascade) {
      // the stage-1 file and its time: a retrained stage 1 makes this cache stale
      const f = oofLabelFile(validationDir(modelDir, cascade.previousStage, foldOfCase(splits, c.id)), c.id);
      source.push(`${f}@${statSync(f).mtimeMs}`);
    }
    const cached = await loadCached(preprocessedDir, c.id, source, cascade?.variant === 'crop');
    if (cached) {
      cases.push(...cached);
      continue;
    }
    log(`preprocess ${configName} ${i + 1}/${dataset.training.length} ${c.id}`);
    readAhead(i);
    const vols = await pending.get(i)!;
    pending.delete(i);
    readAhead(i + 1);
    const spacing = arraySpacing(vols.channels[0]!);
    const stage1 = cascade
      ? (await readOutOfFoldClasses(modelDir, cascade.previousStage, splits, c.id, plans.labelValues)).classes
      : null;
    const image = channelsToTensor(vols.channels);
    const labels = vols.label
      ? tidy(() => toClassIndices(labelsToTensor(vols.label!, c.label), plans.labelValues))
      : null;
    try {
      if (cascade?.variant === 'crop') {
        const boxes = cropBoxes(config, stage1!, spacing);
        const ids: string[] = [];
        for (const [k, box] of boxes.entries()) {
          const done = tidy(() =>
            preprocessCase(
              cropTo(image, box),
              labels ? cropTo(labels.unsqueeze(0), box).squeeze(0) : null,
              spacing,
              plan,
            ),
          );
          const id = `${c.id}__crop${k}`;
          cases.push(
            await storeCase(preprocessedDir, id, done.image, done.labels, done.record, source, c.id),
          );
          ids.push(id);
          done.image.dispose();
          done.labels?.dispose();
        }
        if (!boxes.length) log(`${c.id}: ${cascade.previousStage} found no foreground, no crop to train on`);
        await writeFileAtomic(cropIndexFile(preprocessedDir, c.id), JSON.stringify({ source, crops: ids }));
      } else {
        const done = tidy(() => {
          const pre = preprocessCase(image, labels, spacing, plan);
          return stage1 ? { ...pre, image: withPrior(pre.image, stage1, pre.record, K) } : pre;
        });
        cases.push(await storeCase(preprocessedDir, c.id, done.image, done.labels, done.record, source));
        done.image.dispose();
        done.labels?.dispose();
      }
    } finally {
      image.dispose();
      labels?.dispose();
      stage1?.dispose();
    }
  }
  if (!cases.length)
    throw new Error(`${configName}: nothing to train on (no stage-1 foreground in any case)`);
  return { configName, dataset, fingerprint, plans, config, preprocessedDir, cases };
}

const cropIndexFile = (dir: string, id: string) => path.join(dir, `${id}.crops.json`);

/** The stored case(s) of a dataset case when they were made from the same sources, else null. */
async function loadCached(
  dir: string,
  id: string,
  source: string[],
  crops: boolean,
): Promise<StoredCase[] | null> {
  const key = source.join('|');
  if (crops) {
    const index = cropIndexFile(dir, id);
    if (!existsSync(index)) return null;
    const { source: was, crops: ids } = JSON.parse(await readFile(index, 'utf8')) as {
      source: string[];
      crops: string[];
    };
    if (was.join('|') !== key) return null;
    return Promise.all(ids.map((c) => loadStoredCase(dir, c)));
  }
  if (!existsSync(path.join(dir, `${id}.json`))) return null;
  const stored = await loadStoredCase(dir, id);
  return stored.source.join('|') === key ? [stored] : null;
}
