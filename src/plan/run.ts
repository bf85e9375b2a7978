// `plan`: a dataset folder → fingerprint.json and plans.json in the model folder (the dataset is
// checked first and refused with its report when it fails).
import { mkdir } from 'node:fs/promises';
import { assertDatasetValid } from '../dataset/check.js';
import { computeFingerprint, writeFingerprint } from './fingerprint.js';
import { planDataset, writePlans, type Plans, type PlanOptions } from './planner.js';

export async function plan(
  datasetDir: string,
  modelDir: string,
  o: PlanOptions & { log?: (s: string) => void } = {},
): Promise<{ plans: Plans; plansFile: string; fingerprintFile: string }> {
  const dataset = await assertDatasetValid(datasetDir);
  await mkdir(modelDir, { recursive: true });
  const fp = await computeFingerprint(dataset, (i, n, id) => o.log?.(`fingerprint ${i + 1}/${n} ${id}`));
  const fingerprintFile = await writeFingerprint(modelDir, fp);
  const plans = planDataset(fp, o);
  const plansFile = await writePlans(modelDir, plans);
  return { plans, plansFile, fingerprintFile };
}
