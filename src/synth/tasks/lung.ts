// MSD Task06 Lung: chest CT with one or two lung tumours labelled: small nodules among the vessel tree
// of the lungs, a few hundred voxels in tens of millions.
import type { Vec3 } from '../grid.js';
import { Scene } from '../scene.js';
import type { SynthTask } from '../task.js';
import { growTree, smoothPath, tubeThrough } from '../tubes.js';
import { ellipsoid } from '../regions.js';
import { at, drawTorso, lungRegions, paintBody, paintRibs, paintSpine } from './body.js';
import { finishCT, logUniform, paintHollowTube, paintLesions, visibleRadius } from './common.js';

const hu = (v: number, texture = 0): { label: number; values: number[]; texture: number[] } => ({
  label: 0,
  values: [v],
  texture: [texture],
});

export const lungTask: SynthTask = {
  key: 'lung',
  number: 6,
  name: 'Lung',
  description: 'Synthetic chest CT: lung tumours',
  modality: 'CT',
  channelNames: ['CT'],
  labels: { background: 0, cancer: 1 },
  sizes: {
    tiny: { shape: [32, 32, 24], spacing: [12.5, 12.5, 12.5] },
    small: { shape: [128, 128, 80], spacing: [3.125, 3.125, 3.75] },
    realistic: { shape: [512, 512, 200], spacing: [0.78, 0.78, 1.5] },
  },
  spacingJitter: 0.08,
  flip: [-1, -1, 1],
  generate(rng, grid) {
    const scene = new Scene(grid, hu(-1000));
    const t = drawTorso(rng.fork('torso'), grid, [150, 180]);
    const contrast = rng.chance(0.5);
    const fat = scene.add(hu(rng.uniform(-110, -90), 8));
    const muscle = scene.add(hu(rng.uniform(40, 60), 5));
    const cavity = scene.add(hu(rng.uniform(-100, -70), 10));
    const lung = scene.add(hu(rng.uniform(-880, -820), 25));
    const lungVessel = scene.add(hu(contrast ? rng.uniform(120, 180) : rng.uniform(30, 50)));
    const heart = scene.add(hu(rng.uniform(35, 55), 4));
    const blood = scene.add(hu(contrast ? rng.uniform(150, 250) : rng.uniform(35, 50)));
    const bone = scene.add(hu(rng.uniform(650, 900)));
    const marrow = scene.add(hu(rng.uniform(180, 280), 30));
    const airway = scene.add(hu(-1000));
    const wall = scene.add(hu(40));
    const csf = scene.add(hu(15));

    paintBody(scene, t, { fat, muscle, cavity }, rng.fork('body'));
    paintSpine(scene, t, { cortex: bone, marrow, canal: csf, muscle }, [cavity]);
    const lungs = lungRegions(t, rng.fork('lungs'), 0, 135);
    for (const l of lungs) scene.paint(l, lung, { over: [cavity] });
    const cl = [cavity, lung];
    scene.paint(ellipsoid(at(t, -20, 38, -45), [62, 50, 55]), heart, { over: cl });
    const sy = t.spineY - t.cy;
    const aorta = smoothPath(
      [
        at(t, 5, 28, -30),
        at(t, 5, 28, 40),
        at(t, -5, 12, 65),
        at(t, -18, sy + 30, 50),
        at(t, -18, sy + 30, -160),
      ],
      4,
    );
    for (const seg of tubeThrough(aorta, visibleRadius(grid, 14)))
      scene.paint(seg, blood, { over: [...cl, heart] });
    // Trachea splitting into the main bronchi at the carina.
    const carina = at(t, 0, sy + 60, 25);
    const airways: Vec3[][] = [
      [at(t, 0, sy + 62, 170), carina],
      [carina, at(t, -45, sy + 55, 5)],
      [carina, at(t, 45, sy + 55, 5)],
    ];
    for (const path of airways) {
      paintHollowTube(scene, tubeThrough(path, visibleRadius(grid, 9, 0.6)), wall, airway, -0.2, cl);
    }
    // Pulmonary vessel trees from each hilum, fanning out up, down, forward, back and sideways.
    const fan: Vec3[] = [
      [1, 0, 0],
      [0.6, 0, 0.8],
      [0.6, 0, -0.8],
      [0.6, 0.8, 0],
      [0.6, -0.8, 0],
    ];
    lungs.forEach((region, s) => {
      const side = s ? 1 : -1;
      fan.forEach((d, n) => {
        const tree = growTree(rng.fork('vessels', s, n), {
          start: at(t, side * 50, sy + 50, 5),
          direction: [side * d[0], d[1], d[2]],
          radius: visibleRadius(grid, rng.uniform(4.5, 6.5), 0.45),
          minRadius: visibleRadius(grid, 0.8, 0.3),
          step: 7,
          taper: 0.93,
          branchChance: 0.4,
          wander: 0.3,
          maxSegments: 160,
          inside: (p) => region.level(p[0], p[1], p[2]) < -0.02,
        });
        for (const seg of tree) scene.paint(seg, lungVessel, { over: [lung] });
      });
    });
    paintRibs(scene, t, -140, 150, bone, [fat, muscle, cavity, lung], rng.fork('ribs'));

    const n = rng.chance(0.7) ? 1 : 2;
    for (let i = 0; i < n; i++) {
      const ground = rng.chance(0.15);
      paintLesions(
        scene,
        rng.fork('nodule', i),
        lungs[rng.int(0, 1)]!,
        1,
        {
          radius: (r) => logUniform(r, 4, 18),
          values: (r) => [ground ? r.uniform(-600, -400) : r.uniform(15, 50)],
          texture: [ground ? 40 : 8],
          label: 1,
          over: [lung, lungVessel],
          wobble: 0.35,
        },
        -0.15,
      );
    }
    return { channels: [finishCT(scene, rng.fork('ct'))], label: scene.labelMap() };
  },
};
