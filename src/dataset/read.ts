// Reads a dataset folder as it is on disk: finds dataset.json, tells the layout from its keys and hands
// it to the matching parser. Only a missing or unparseable dataset.json is fatal; every other problem
// ends up in `issues` for the check to report.
import fs from 'node:fs';
import path from 'node:path';
import { parseMsdDatasetJson } from './msd.js';
import { parseNnunetDatasetJson, type FolderView } from './nnunet.js';
import type { Dataset } from './types.js';

/** The folder cannot be read as a dataset at all. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export const diskView: FolderView = {
  list(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  exists: (p) => fs.existsSync(p),
};

/** nnU-Net v2 has `channel_names`; MSD (and nnU-Net v1, which kept its format) has `modality`. */
export function detectLayout(json: unknown): 'msd' | 'nnunet-v2' | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  if ('channel_names' in json) return 'nnunet-v2';
  if ('modality' in json || 'training' in json) return 'msd';
  return undefined;
}

/**
 * Reads the dataset in folder `dir`, or described by the JSON file `dir` (then its folder is the root:
 * a task's dataset.json saved under another name still finds its images).
 */
export async function readDataset(dir: string): Promise<Dataset> {
  const given = path.resolve(dir);
  const isJson = given.toLowerCase().endsWith('.json') && fs.existsSync(given) && fs.statSync(given).isFile();
  const root = isJson ? path.dirname(given) : given;
  const file = isJson ? given : path.join(root, 'dataset.json');
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new DatasetError(`${root}: no dataset.json (expected an MSD task or nnU-Net v2 dataset folder)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const layout = detectLayout(json);
  if (layout === 'nnunet-v2') return parseNnunetDatasetJson(json, root, diskView);
  if (layout === 'msd') return parseMsdDatasetJson(json, root, diskView.exists);
  throw new DatasetError(`${file}: has neither "channel_names" (nnU-Net v2) nor "modality" (MSD)`);
}
