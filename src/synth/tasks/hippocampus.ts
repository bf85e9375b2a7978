// MSD Task04 Hippocampus: T1 MRI crops around the hippocampus with its two adjacent parts labelled,
// anterior (head) and posterior (body and tail). Grey-matter neighbours (amygdala, cortex) have nearly
// the same intensity, so the boundary is mostly shape; the split between the parts has no edge at all.
import type { Vec3 } from '../grid.js';
import { ellipsoid, type Region } from '../regions.js';
import { Scene } from '../scene.js';
import type { SynthTask } from '../task.js';
import { smoothPath, tubeThrough } from '../tubes.js';
import { finishMRI, jitter, scale, visible } from './common.js';

export const hippocampusTask: SynthTask = {
  key: 'hippocampus',
  number: 4,
  name: 'Hippocampus',
  description: 'Synthetic T1 MRI crops: hippocampus head (anterior) and body/tail (posterior)',
  modality: 'MRI',
  channelNames: ['MRI'],
  labels: { background: 0, Anterior: 1, Posterior: 2 },
  sizes: {
    tiny: { shape: [24, 32, 24], spacing: [1.5, 1.5625, 1.46] },
    small: { shape: [36, 50, 35], spacing: [1, 1, 1] },
    realistic: { shape: [36, 50, 35], spacing: [1, 1, 1] },
  },
  spacingJitter: 0,
  flip: [1, 1, 1],
  generate(rng, grid) {
    const v = (
      x: number,
      label = 0,
      texture = 4,
    ): { label: number; values: number[]; texture: number[] } => ({
      label,
      values: [x * rng.uniform(0.93, 1.07)],
      texture: [texture],
    });
    const scene = new Scene(grid, v(72, 0, 6)); // the crop is all brain: grey matter around
    const wm = scene.add(v(110));
    const csf = scene.add(v(25, 0, 2));
    const posterior = scene.add(v(80, 2));
    const anterior = scene.add(v(82, 1));
    const amygdala = scene.add(v(76));

    // White matter above and lateral, cortex below.
    scene.paint(
      ellipsoid(jitter(rng, [6, 0, 14], 2), [18, 40, 10], undefined, {
        rng: rng.fork('wm'),
        cells: 3,
        amp: 0.2,
      }),
      wm,
    );
    // Centreline from the head (anterior, thick) to the tail (posterior, thin, curving up and medially).
    const ctrl: Vec3[] = [
      [2, 18, -5],
      [0, 9, -4],
      [-1, -1, -2],
      [0, -11, 2],
      [3, -18, 8],
    ].map((p) => jitter(rng, p as Vec3, 1.5));
    const path = smoothPath(ctrl, 3);
    const [rHead, rTail] = [rng.uniform(6.5, 8), rng.uniform(2.8, 3.5)];
    scene.paint(ellipsoid(jitter(rng, [3, 23, 1], 1.5), visible(grid, scale(rng, [7, 6, 6], 0.1))), amygdala);
    // Temporal horn of the lateral ventricle: a thin CSF sheet above-lateral of the hippocampus.
    for (const seg of tubeThrough(
      path.map((p) => [p[0] + 6, p[1], p[2] + 5] as Vec3),
      visible(grid, [1.6, 1.6, 1.6], 0.7)[0],
    )) {
      scene.paint(seg, csf, { over: [0, wm] });
    }
    const tube = tubeThrough(path, Math.max(rHead, grid.spacing[0]), Math.max(rTail, 0.8 * grid.spacing[0]));
    for (const seg of tube) scene.paint(seg, posterior, { over: [0, wm, csf, amygdala] });
    // Anterior part: the hippocampal voxels in front of a plane across the centreline ~40 % along.
    const k = Math.round(path.length * rng.uniform(0.35, 0.45));
    const p = path[k]!;
    const d = path[k - 1]!.map((x, a) => x - p[a]!) as Vec3;
    const head: Region = {
      min: [-1e3, -1e3, -1e3],
      max: [1e3, 1e3, 1e3],
      level: (x, y, z) => -((x - p[0]) * d[0] + (y - p[1]) * d[1] + (z - p[2]) * d[2]),
    };
    scene.paint(head, anterior, { over: [posterior] });

    const [channel] = finishMRI(scene, rng.fork('mri'), [{ noise: 0.04, reference: 100, bias: 0.1 }]);
    return { channels: [channel!], label: scene.labelMap() };
  },
};
