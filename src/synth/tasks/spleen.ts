// MSD Task09 Spleen: portal venous CT with one labelled organ that fills well under 1 % of a large field
// of view (chest to pelvis): the class imbalance is the point of this task.
import type { SynthTask } from '../task.js';
import { buildAbdomen } from './abdomen.js';
import { finishCT } from './common.js';

export const spleenTask: SynthTask = {
  key: 'spleen',
  number: 9,
  name: 'Spleen',
  description: 'Synthetic portal venous CT: spleen',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, spleen: 1 },
  sizes: {
    tiny: { shape: [32, 32, 24], spacing: [12.8, 12.8, 18.75] },
    small: { shape: [128, 128, 45], spacing: [3.2, 3.2, 10] },
    realistic: { shape: [512, 512, 90], spacing: [0.8, 0.8, 5] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const ab = buildAbdomen(rng.fork('abdomen'), grid, { labels: { spleen: 1 } });
    return { channels: [finishCT(ab.scene, rng.fork('ct'))], label: ab.scene.labelMap() };
  },
};
