// MSD Task10 Colon: CT with a primary colon cancer labelled: a short wall thickening of the large bowel,
// tiny against the field of view and easily confused with collapsed bowel or stool.
import type { Vec3 } from '../grid.js';
import type { SynthTask } from '../task.js';
import { ellipsoid } from '../regions.js';
import { buildAbdomen } from './abdomen.js';
import { finishCT, logUniform, paintLesions } from './common.js';

export const colonTask: SynthTask = {
  key: 'colon',
  number: 10,
  name: 'Colon',
  description: 'Synthetic portal venous CT: colon cancer primaries',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, 'colon cancer primaries': 1 },
  sizes: {
    tiny: { shape: [32, 32, 24], spacing: [12.5, 12.5, 20] },
    small: { shape: [128, 128, 48], spacing: [3.125, 3.125, 10] },
    realistic: { shape: [512, 512, 96], spacing: [0.78, 0.78, 5] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const ab = buildAbdomen(rng.fork('abdomen'), grid, { labels: {} });
    // A point on the wall: off the centreline by most of the bowel radius, in a random direction.
    const path = ab.colonPath;
    const i = rng.int(2, path.length - 3);
    const p = path[i]!;
    const d = rng.unitVector();
    const off = 0.65 * ab.colonRadius;
    const c: Vec3 = [p[0] + d[0] * off, p[1] + d[1] * off, p[2] + d[2] * off];
    const host = ellipsoid(c, [ab.colonRadius * 0.5, ab.colonRadius * 0.5, ab.colonRadius * 0.5]);
    paintLesions(
      ab.scene,
      rng.fork('tumour'),
      host,
      1,
      {
        radius: (r) => logUniform(r, 10, 24),
        values: (r) => [r.uniform(55, 85)],
        texture: [10],
        label: 1,
        over: [ab.ids.colonWall, ab.ids.colonLumen],
        wobble: 0.25,
      },
      -0.2,
    );
    return { channels: [finishCT(ab.scene, rng.fork('ct'))], label: ab.scene.labelMap() };
  },
};
