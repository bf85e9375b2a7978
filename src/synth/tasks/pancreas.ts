// MSD Task07 Pancreas: portal venous CT, pancreas and its tumour (a hypodense mass or a cyst) inside it.
// The organ is thin and low-contrast against the surrounding fat and vessels.
import type { Vec3 } from '../grid.js';
import type { SynthTask } from '../task.js';
import { ellipsoid } from '../regions.js';
import { buildAbdomen } from './abdomen.js';
import { finishCT, logUniform, paintLesions } from './common.js';

export const pancreasTask: SynthTask = {
  key: 'pancreas',
  number: 7,
  name: 'Pancreas',
  description: 'Synthetic portal venous CT: pancreas and pancreatic tumour',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, pancreas: 1, cancer: 2 },
  sizes: {
    tiny: { shape: [32, 32, 16], spacing: [12.8, 12.8, 15] },
    small: { shape: [128, 128, 48], spacing: [3.2, 3.2, 5] },
    realistic: { shape: [512, 512, 96], spacing: [0.8, 0.8, 2.5] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const ab = buildAbdomen(rng.fork('abdomen'), grid, { labels: { pancreas: 1 } });
    // The tumour sits somewhere along the gland: the host is a ball around a point of its centreline.
    const path = ab.pancreasPath;
    const c: Vec3 = path[rng.int(1, path.length - 2)]!;
    const host = ellipsoid(c, [ab.pancreasRadius * 1.2, ab.pancreasRadius * 1.2, ab.pancreasRadius * 1.2]);
    const cyst = rng.chance(0.3);
    paintLesions(
      ab.scene,
      rng.fork('tumour'),
      host,
      1,
      {
        radius: (r) => logUniform(r, 7, 20),
        values: (r) => [cyst ? r.uniform(5, 20) : ab.pancreasHU - r.uniform(25, 50)],
        texture: [cyst ? 3 : 10],
        label: 2,
        over: [ab.ids.pancreas],
        wobble: cyst ? 0.05 : 0.2,
      },
      -0.2,
    );
    return { channels: [finishCT(ab.scene, rng.fork('ct'))], label: ab.scene.labelMap() };
  },
};
