// Fixed 5-fold cross-validation splits (saved as splits.json so every run and resume sees the same).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile, SchemaError, formatPath } from '../io/jsonFile.js';
import { writeFileAtomic } from '../io/atomic.js';
import path from 'node:path';
import { Rng } from '../common/random.js';

export const splitSchema = z.strictObject({
  train: z.array(z.string()).min(1),
  val: z.array(z.string()).min(1),
});
export type Split = z.infer<typeof splitSchema>;
export const splitsSchema = z.array(splitSchema).min(1);

/** splits.json, checked; with `ids`, every case it names must be one of them. */
export async function readSplits(file: string, ids?: readonly string[]): Promise<Split[]> {
  const splits = await readJsonFile(file, splitsSchema);
  if (ids) {
    const known = new Set(ids);
    splits.forEach((s, f) =>
      (['train', 'val'] as const).forEach((part) =>
        s[part].forEach((id, i) => {
          if (!known.has(id))
            throw new SchemaError(file, `${formatPath([f, part, i])}: case '${id}' is not in the dataset`);
        }),
      ),
    );
  }
  return splits;
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
  if (existsSync(file)) return readSplits(file, ids);
  const splits = makeSplits(ids);
  await writeFileAtomic(file, JSON.stringify(splits, null, 2));
  return splits;
}
