// A reference label map as a region-based model would write it: each region's `writeAs` value where
// the voxel's label is in the region, later regions over earlier (BraTS: necrosis 1 → whole tumour
// writes 2, then tumour core writes 1). Post-processing is chosen on what the model writes, so its
// references are brought to the same values first.
import { checkLabelArray, type LabelArray } from './components.js';

export interface WrittenRegion {
  labels: readonly number[];
  writeAs: number;
}

export function writtenByRegions<T extends LabelArray>(map: T, regions: readonly WrittenRegion[]): T {
  checkLabelArray(map, 'reference');
  // value → written value, for the values the map holds
  const written = new Map<number, number>();
  const out = new (map.constructor as new (n: number) => T)(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    let w = written.get(v);
    if (w === undefined) {
      w = 0;
      for (const r of regions) if (r.labels.includes(v)) w = r.writeAs;
      written.set(v, w);
    }
    out[i] = w;
  }
  return out;
}
