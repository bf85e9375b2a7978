// From a dataset folder to what training reads: the dataset check (a failing dataset is refused
// with its report), fingerprint.json, plans.json (kept when present: plans are the user's to edit)
// and the preprocessed cases of one configuration.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { tidy } from '../engine/index.js';
import { assertDatasetValid } from '../dataset/check.js';
import { readCaseVolumes } from '../dataset/volumes.js';
import type { Dataset } from '../dataset/types.js';
import { computeFingerprint, writeFingerprint, type Fingerprint } from '../plan/fingerprint.js';
import {
  planDataset,
  writePlans,
  type Plans,
  type ConfigurationName,
  type Configuration,
} from '../plan/planner.js';
import { arraySpacing, channelsToTensor, labelsToTensor } from '../preprocess/volumeTensor.js';
import { preprocessCase } from '../preprocess/preprocessCase.js';
import { storeCase, loadStoredCase, type StoredCase } from '../preprocess/store.js';

export interface Prepared {
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

/** Label values → class indices 0..K-1 (plans.labelValues order). */
export function toClassIndices(labels: import('../engine/index.js').Tensor, labelValues: number[]) {
  return tidy(() => {
    if (labelValues.every((v, i) => v === i)) return labels.clone();
    let out = labels.mul(0);
    labelValues.forEach((v, i) => {
      if (i > 0) out = out.add(labels.eq(v).to('int64').mul(i));
    });
    return out;
  });
}

export async function prepare(
  datasetDir: string,
  modelDir: string,
  configName: ConfigurationName,
  o: PrepareOptions = {},
): Promise<Prepared> {
  const log = o.log ?? (() => {});
  await mkdir(modelDir, { recursive: true });
  const dataset = await assertDatasetValid(datasetDir);
  const fpFile = path.join(modelDir, 'fingerprint.json');
  let fingerprint: Fingerprint;
  if (existsSync(fpFile)) fingerprint = JSON.parse(await readFile(fpFile, 'utf8')) as Fingerprint;
  else {
    log('fingerprint: reading every case once');
    fingerprint = await computeFingerprint(dataset, (i, n, id) => log(`fingerprint ${i + 1}/${n} ${id}`));
    await writeFingerprint(modelDir, fingerprint);
  }
  const plansFile = path.join(modelDir, 'plans.json');
  let plans: Plans;
  if (existsSync(plansFile)) plans = JSON.parse(await readFile(plansFile, 'utf8')) as Plans;
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
  for (const [i, c] of dataset.training.entries()) {
    const source = [...c.channels.map((ch) => ch.path), ...(c.label ? [c.label] : [])];
    if (existsSync(path.join(preprocessedDir, `${c.id}.json`))) {
      const stored = await loadStoredCase(preprocessedDir, c.id);
      if (stored.source.join('|') === source.join('|')) {
        cases.push(stored);
        continue;
      }
    }
    log(`preprocess ${configName} ${i + 1}/${dataset.training.length} ${c.id}`);
    readAhead(i);
    const vols = await pending.get(i)!;
    pending.delete(i);
    readAhead(i + 1);
    const spacing = arraySpacing(vols.channels[0]!);
    const done = tidy(() => {
      const image = channelsToTensor(vols.channels);
      const labels = vols.label
        ? toClassIndices(labelsToTensor(vols.label, c.label), plans.labelValues)
        : null;
      return preprocessCase(image, labels, spacing, {
        targetSpacing: config.spacing,
        normalization: config.normalization,
        imageInterpolation: config.imageInterpolation,
        labelInterpolation: config.labelInterpolation,
        numClasses: plans.labelValues.length,
      });
    });
    cases.push(await storeCase(preprocessedDir, c.id, done.image, done.labels, done.record, source));
    done.image.dispose();
    done.labels?.dispose();
  }
  return { dataset, fingerprint, plans, config, preprocessedDir, cases };
}
