// MSD Task05 Prostate: bi-parametric MRI (T2, ADC) with thick slices (0.6×0.6×3.6 mm) and two zones
// labelled: the peripheral zone (a posterior-lateral crescent, bright on T2) around the transition zone
// (central, darker, nodular). ADC is a computed map: acquired coarser, no coil bias.
import type { Vec3 } from '../grid.js';
import { cylinderZ, ellipsoid, randomRotation, rotation } from '../regions.js';
import { Scene } from '../scene.js';
import type { SynthTask } from '../task.js';
import { finishMRI, jitter, paintLesions, scale } from './common.js';

export const prostateTask: SynthTask = {
  key: 'prostate',
  number: 5,
  name: 'Prostate',
  description: 'Synthetic bi-parametric prostate MRI: peripheral (PZ) and transition zone (TZ)',
  modality: 'MRI',
  channelNames: ['T2', 'ADC'],
  labels: { background: 0, PZ: 1, TZ: 2 },
  sizes: {
    // tiny keeps the slices thick by cropping the field of view in-plane to the gland's surroundings.
    tiny: { shape: [32, 32, 8], spacing: [2.8, 2.8, 9] },
    small: { shape: [160, 160, 20], spacing: [1.1, 1.1, 3.6] },
    realistic: { shape: [320, 320, 20], spacing: [0.6, 0.6, 3.6] },
  },
  spacingJitter: 0.05,
  flip: [1, 1, 1],
  generate(rng, grid) {
    const v = (t2: number, adc: number, label = 0, texture: [number, number] = [5, 40]) => ({
      label,
      values: [t2 * rng.uniform(0.9, 1.1), adc * rng.uniform(0.92, 1.08)],
      texture,
    });
    const scene = new Scene(grid, v(10, 40));
    const fat = scene.add(v(380, 250, 0, [12, 40]));
    const muscle = scene.add(v(110, 1400));
    const cavity = scene.add(v(340, 320, 0, [12, 40]));
    const bone = scene.add(v(30, 200));
    const marrow = scene.add(v(300, 450, 0, [20, 50]));
    const urine = scene.add(v(900, 2900));
    const rectumWall = scene.add(v(140, 1300));
    const rectumLumen = scene.add(rng.chance(0.5) ? v(30, 600) : v(250, 900, 0, [60, 200]));
    const pz = scene.add(v(330, 1700, 1, [30, 150]));
    const tz = scene.add(v(170, 1150, 2, [35, 120]));

    scene.paintLayers(
      cylinderZ([0, 20], [rng.uniform(160, 180), rng.uniform(115, 130)], -200, 200, {
        rng: rng.fork('body'),
        cells: 4,
        amp: 0.04,
      }),
      [
        { below: 0, tissue: fat },
        { below: -0.08, tissue: muscle },
        { below: -0.14, tissue: cavity },
      ],
    );
    const cav = [cavity];
    for (const s of [-1, 1]) {
      scene.paint(
        ellipsoid([s * 50, 0, 0], scale(rng, [12, 35, 45], 0.1), rotation([0, 0, 1], s * 0.2)),
        muscle,
        { over: cav },
      );
      scene.paintLayers(
        ellipsoid([s * 95, 10, 25], [25, 25, 25]),
        [
          { below: 0, tissue: bone },
          { below: -0.15, tissue: marrow },
        ],
        cav,
      );
    }
    scene.paintLayers(
      ellipsoid(jitter(rng, [0, 45, 5], 3), [22, 9, 25]),
      [
        { below: 0, tissue: bone },
        { below: -0.3, tissue: marrow },
      ],
      cav,
    );
    scene.paint(
      ellipsoid(jitter(rng, [0, 15, 48], 5), scale(rng, [38, 30, 25], 0.2), undefined, {
        rng: rng.fork('bladder'),
        cells: 3,
        amp: 0.08,
      }),
      urine,
      { over: cav },
    );
    scene.paintLayers(
      cylinderZ([0, -32], [16, 14], -200, 200, { rng: rng.fork('rectum'), cells: 4, amp: 0.1 }),
      [
        { below: 0, tissue: rectumWall },
        { below: -0.3, tissue: rectumLumen },
      ],
      cav,
    );

    // Gland: PZ first, then the TZ shifted forward inside it, which leaves the posterior PZ crescent.
    const centre = jitter(rng, [0, 0, -5], 3);
    const radii = scale(rng, [22, 17, 19], 0.15);
    const rot = randomRotation(rng, 0.15);
    scene.paint(ellipsoid(centre, radii, rot, { rng: rng.fork('gland'), cells: 3, amp: 0.08 }), pz, {
      over: cav,
    });
    // TZ: lateral radii a fraction of the gland's, pushed forward so that it nearly reaches the anterior
    // surface; what remains behind and beside it is the PZ crescent.
    const f = rng.uniform(0.55, 0.68);
    const tzCentre: Vec3 = [centre[0], centre[1] + radii[1] * (1 - f) * 0.85, centre[2] + radii[2] * 0.1];
    scene.paint(
      ellipsoid(tzCentre, radii.map((r) => r * f) as Vec3, rot, { rng: rng.fork('tz'), cells: 3, amp: 0.1 }),
      tz,
      { over: [pz] },
    );
    // Half the cases have a PZ lesion: low T2, low ADC, still labelled PZ (the zones are anatomy).
    if (rng.chance(0.5)) {
      paintLesions(
        scene,
        rng.fork('lesion'),
        ellipsoid([centre[0], centre[1] - radii[1] * 0.6, centre[2]], radii.map((r) => r * 0.45) as Vec3),
        1,
        {
          radius: (r) => r.uniform(4, 9),
          values: (r) => [r.uniform(120, 170), r.uniform(650, 950)],
          label: 1,
          over: [pz],
        },
        -0.1,
      );
    }

    const channels = finishMRI(scene, rng.fork('mri'), [
      { noise: 0.03, reference: 330, bias: 0.4 },
      { noise: 0.05, reference: 1500, bias: 0, blurMm: 1.5 },
    ]);
    return { channels, label: scene.labelMap() };
  },
};
