// MSD Task08 Hepatic Vessel: CT with the liver's vessel trees (thin, branching, partly below the slice
// thickness) and liver tumours labelled; the liver itself is background.
import type { SynthTask } from '../task.js';
import { buildAbdomen } from './abdomen.js';
import { finishCT, logUniform, paintLesions } from './common.js';

export const hepaticVesselTask: SynthTask = {
  key: 'hepatic-vessel',
  number: 8,
  name: 'HepaticVessel',
  description: 'Synthetic portal venous CT: hepatic vessels and liver tumours',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, vessel: 1, cancer: 2 },
  sizes: {
    tiny: { shape: [32, 32, 16], spacing: [12.8, 12.8, 20] },
    small: { shape: [128, 128, 40], spacing: [3.2, 3.2, 8] },
    realistic: { shape: [512, 512, 64], spacing: [0.8, 0.8, 5] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const vesselHU = rng.uniform(170, 220);
    const ab = buildAbdomen(rng.fork('abdomen'), grid, {
      labels: { liverVessels: 1 },
      vesselSegments: 450,
      vesselHU,
    });
    paintLesions(ab.scene, rng.fork('lesions'), ab.liver, rng.int(1, 3), {
      radius: (r) => logUniform(r, 6, 28),
      values: (r) => [ab.liverHU - r.uniform(30, 60)],
      texture: [10],
      label: 2,
      over: [ab.ids.liver, ab.ids.liverVessel],
    });
    return { channels: [finishCT(ab.scene, rng.fork('ct'))], label: ab.scene.labelMap() };
  },
};
