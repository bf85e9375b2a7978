// MSD Task02 Heart: mono-modal cardiac MRI (bright-blood) with the left atrium labelled, pulmonary vein
// ostia included. The other chambers and great vessels are just as bright, so position and shape,
// not intensity, tell the atrium apart; surface coils add a strong bias field.
import type { Vec3 } from '../grid.js';
import { cylinderZ, ellipsoid, randomRotation, rotation } from '../regions.js';
import { Scene } from '../scene.js';
import type { SynthTask } from '../task.js';
import { smoothPath, tubeThrough } from '../tubes.js';
import { at, drawTorso, lungRegions, paintBody, paintSpine } from './body.js';
import { finishMRI, jitter, scale, visible, visibleRadius } from './common.js';

export const heartTask: SynthTask = {
  key: 'heart',
  number: 2,
  name: 'Heart',
  description: 'Synthetic cardiac MRI: left atrium',
  modality: 'MRI',
  channelNames: ['MRI'],
  labels: { background: 0, 'left atrium': 1 },
  sizes: {
    tiny: { shape: [32, 32, 16], spacing: [12.5, 12.5, 11.1] },
    small: { shape: [128, 128, 52], spacing: [3.125, 3.125, 3.42] },
    realistic: { shape: [320, 320, 130], spacing: [1.25, 1.25, 1.37] },
  },
  spacingJitter: 0,
  flip: [1, 1, 1],
  generate(rng, grid) {
    const v = (x: number, texture = 0): { label: number; values: number[]; texture: number[] } => ({
      label: 0,
      values: [x * rng.uniform(0.9, 1.1)],
      texture: [texture],
    });
    const scene = new Scene(grid, { label: 0, values: [0] });
    const t = drawTorso(rng.fork('torso'), grid, [140, 165]);
    const fat = scene.add(v(300, 20));
    const muscle = scene.add(v(90, 10));
    const cavity = scene.add(v(260, 25));
    const lung = scene.add(v(25, 5));
    const myo = scene.add(v(110, 8));
    const blood = scene.add(v(380, 15));
    const atrium = scene.add({ label: 1, values: [380 * rng.uniform(0.9, 1.1)], texture: [15] });
    const bone = scene.add(v(40));
    const marrow = scene.add(v(200, 20));
    const csf = scene.add(v(350));

    paintBody(scene, t, { fat, muscle, cavity }, rng.fork('body'));
    paintSpine(scene, t, { cortex: bone, marrow, canal: csf, muscle }, [cavity]);
    for (const l of lungRegions(t, rng.fork('lungs'), 10, 120)) scene.paint(l, lung, { over: [cavity] });
    const open = [cavity, lung];
    const sy = t.spineY - t.cy;

    // Heart: myocardium with the long axis pointing left, forward and down; chambers inside and behind.
    const c: Vec3 = jitter(rng, at(t, -15, 25, -5), 6);
    const axis = rotation([0, 0, 1], rng.uniform(-0.7, -0.4));
    scene.paint(
      ellipsoid(c, scale(rng, [58, 46, 50], 0.08), axis, { rng: rng.fork('myo'), cells: 3, amp: 0.06 }),
      myo,
      { over: open },
    );
    const chamber = (p: Vec3, r: Vec3, id: number, over: readonly number[]): void => {
      scene.paint(
        ellipsoid(jitter(rng, p, 3), visible(grid, scale(rng, r, 0.12)), randomRotation(rng, 0.3), {
          rng: rng.fork('ch', id),
          cells: 3,
          amp: 0.1,
        }),
        id,
        { over },
      );
    };
    chamber([c[0] - 18, c[1] - 5, c[2] - 8], [22, 19, 30], blood, [myo]); // left ventricle
    chamber([c[0] + 18, c[1] + 18, c[2] - 10], [26, 14, 28], blood, [myo]); // right ventricle
    chamber([c[0] + 38, c[1] - 12, c[2] + 12], [21, 21, 24], blood, [myo, ...open]); // right atrium
    // Left atrium: posterior, just in front of the spine and descending aorta.
    const la: Vec3 = jitter(rng, [c[0] - 2, t.cy + sy + 55, c[2] + 22], 4);
    chamber(la, [25, 17, 19], atrium, [myo, ...open]);
    // Pulmonary veins: two from each side, entering the atrium from behind and laterally.
    for (const sx of [-1, 1]) {
      for (const sz of [-1, 1]) {
        const end: Vec3 = [
          la[0] + sx * rng.uniform(38, 50),
          la[1] - rng.uniform(5, 15),
          la[2] + sz * rng.uniform(10, 18),
        ];
        for (const seg of tubeThrough(
          [la, end],
          visibleRadius(grid, rng.uniform(6, 8), 0.5),
          visibleRadius(grid, 4.5, 0.5),
        )) {
          scene.paint(seg, atrium, { over: open });
        }
      }
    }
    // Great vessels, as bright as the atrium: ascending aorta and arch, descending aorta, pulmonary trunk.
    const aorta = smoothPath(
      [
        [c[0] - 5, c[1] + 5, c[2] + 10],
        [c[0] + 5, c[1] + 10, c[2] + 60],
        [c[0] - 10, c[1] - 15, c[2] + 85],
        at(t, -18, sy + 30, c[2] + 60 - t.offset[2]),
        at(t, -18, sy + 30, -150),
      ],
      4,
    );
    for (const seg of tubeThrough(aorta, visibleRadius(grid, 14, 0.6)))
      scene.paint(seg, blood, { over: [...open, myo] });
    const pa = smoothPath(
      [
        [c[0] + 10, c[1] + 25, c[2] + 10],
        [c[0] - 5, c[1] + 20, c[2] + 50],
        [c[0] - 30, c[1] + 5, c[2] + 55],
      ],
      3,
    );
    for (const seg of tubeThrough(pa, visibleRadius(grid, 13, 0.6)))
      scene.paint(seg, blood, { over: [...open, myo] });
    scene.paint(cylinderZ([c[0] + 40, c[1] - 5], [11, 11], c[2] + 20, t.zMax), blood, { over: open }); // superior vena cava

    const [channel] = finishMRI(scene, rng.fork('mri'), [{ noise: 0.04, reference: 380, bias: 0.35 }]);
    return { channels: [channel!], label: scene.labelMap() };
  },
};
