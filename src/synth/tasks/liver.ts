// MSD Task03 Liver: portal venous CT, liver (vessels inside it included) and tumours. Most cases have a
// few lesions of very different sizes, mostly hypodense; some cases have none.
import type { SynthTask } from '../task.js';
import { buildAbdomen } from './abdomen.js';
import { finishCT, logUniform, paintLesions } from './common.js';

export const liverTask: SynthTask = {
  key: 'liver',
  number: 3,
  name: 'Liver',
  description: 'Synthetic portal venous CT: liver and liver tumours',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, liver: 1, cancer: 2 },
  sizes: {
    tiny: { shape: [32, 32, 20], spacing: [12.5, 12.5, 16] },
    small: { shape: [128, 128, 64], spacing: [3.125, 3.125, 5] },
    realistic: { shape: [512, 512, 160], spacing: [0.78, 0.78, 2] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const ab = buildAbdomen(rng.fork('abdomen'), grid, { labels: { liver: 1, liverVessels: 1 } });
    const n = rng.chance(0.12) ? 0 : rng.int(1, 4);
    paintLesions(ab.scene, rng.fork('lesions'), ab.liver, n, {
      radius: (r) => logUniform(r, 5, 30),
      values: (r) => [r.chance(0.8) ? ab.liverHU - r.uniform(30, 65) : ab.liverHU + r.uniform(25, 50)],
      texture: [10],
      label: 2,
      over: [ab.ids.liver, ab.ids.liverVessel],
    });
    return { channels: [finishCT(ab.scene, rng.fork('ct'))], label: ab.scene.labelMap() };
  },
};
