// Fixed 5-fold cross-validation splits (saved as splits.json so every run and resume sees the same).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.js';
import path from 'node:path';
import { Rng } from '../common/random.js';

export interface Split {
  train: string[];
  val: string[];
}

export function makeSplits(ids: string[], folds = 5, seed = 12345): Split[] {
  const order = [...ids].sort();
  const rng = new Rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const k = Math.min(folds, order.length);
  if (k < 2) return [{ train: order, val: order }];
  return Array.from({ length: k }, (_, f) => ({
    train: order.filter((_, i) => i % k !== f).sort(),
    val: order.filter((_, i) => i % k === f).sort(),
  }));
}

export async function loadOrCreateSplits(dir: string, ids: string[]): Promise<Split[]> {
  const file = path.join(dir, 'splits.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Split[];
  const splits = makeSplits(ids);
  await writeFileAtomic(file, JSON.stringify(splits, null, 2));
  return splits;
}
