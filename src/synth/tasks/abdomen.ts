// A contrast-enhanced (portal venous) abdominal CT shared by the liver, hepatic-vessel, pancreas, spleen
// and colon tasks: each task labels different tissues of the same anatomy and adds its own lesions.
// Organs are painted only over the cavity (and lung), so they press against the body wall and each other
// instead of overlapping: the small, deep ones (pancreas, bowel) first, so that the big liver and spleen
// mould around them rather than swallow them.
import type { Grid, Vec3 } from '../grid.js';
import type { Rng } from '../../common/random.js';
import { cylinderZ, ellipsoid, randomRotation, rotation, type Region } from '../regions.js';
import { Scene } from '../scene.js';
import { growTree, smoothPath, tubeThrough } from '../tubes.js';
import { at, drawTorso, lungRegions, paintBody, paintRibs, paintSpine, type Torso } from './body.js';
import { jitter, paintHollowTube, scale, visibleRadius } from './common.js';

/** Label value per labelled organ; organs not named get 0. */
export interface AbdomenLabels {
  liver?: number;
  liverVessels?: number;
  spleen?: number;
  pancreas?: number;
}

export interface Abdomen {
  scene: Scene;
  torso: Torso;
  ids: Record<
    | 'air'
    | 'fat'
    | 'muscle'
    | 'cavity'
    | 'liver'
    | 'liverVessel'
    | 'spleen'
    | 'pancreas'
    | 'colonWall'
    | 'colonLumen'
    | 'lung',
    number
  >;
  liverHU: number;
  pancreasHU: number;
  liver: Region;
  pancreasPath: Vec3[];
  pancreasRadius: number;
  colonPath: Vec3[];
  colonRadius: number;
}

export interface AbdomenOptions {
  labels: AbdomenLabels;
  /** Capsules in the liver's vessel trees (the hepatic-vessel task wants many). */
  vesselSegments?: number;
  vesselHU?: number;
}

const tissue = (
  hu: number,
  label = 0,
  texture = 0,
): { label: number; values: number[]; texture: number[] } => ({
  label,
  values: [hu],
  texture: [texture],
});

export function buildAbdomen(rng: Rng, grid: Grid, opts: AbdomenOptions): Abdomen {
  const L = opts.labels;
  const scene = new Scene(grid, tissue(-1000));
  const torso = drawTorso(rng.fork('torso'), grid);
  const t = torso;
  const liverHU = rng.uniform(95, 120);
  const pancreasHU = rng.uniform(85, 110);
  const ids = {
    air: 0,
    fat: scene.add(tissue(rng.uniform(-110, -90), 0, 8)),
    muscle: scene.add(tissue(rng.uniform(45, 60), 0, 5)),
    cavity: scene.add(tissue(rng.uniform(-100, -80), 0, 10)),
    liver: scene.add(tissue(liverHU, L.liver ?? 0, 6)),
    liverVessel: scene.add(tissue(opts.vesselHU ?? rng.uniform(150, 190), L.liverVessels ?? 0)),
    spleen: scene.add(tissue(rng.uniform(100, 125), L.spleen ?? 0, 5)),
    pancreas: scene.add(tissue(pancreasHU, L.pancreas ?? 0, 12)),
    colonWall: scene.add(tissue(rng.uniform(35, 55))),
    colonLumen: scene.add(rng.chance(0.6) ? tissue(-950, 0, 40) : tissue(rng.uniform(-150, 10), 0, 120)),
    lung: scene.add(tissue(-850, 0, 25)),
  };
  const bone = scene.add(tissue(rng.uniform(650, 900)));
  const marrow = scene.add(tissue(rng.uniform(180, 280), 0, 30));
  const csf = scene.add(tissue(10));
  const blood = scene.add(tissue(rng.uniform(140, 190)));
  const kidneyCortex = scene.add(tissue(rng.uniform(150, 190)));
  const kidneyMedulla = scene.add(tissue(rng.uniform(90, 120)));
  const fluid = scene.add(tissue(rng.uniform(5, 20)));
  const bowelWall = scene.add(tissue(rng.uniform(35, 55)));
  const bowelContent = scene.add(
    rng.chance(0.3) ? tissue(rng.uniform(180, 260), 0, 30) : tissue(rng.uniform(10, 30)),
  );
  const heart = scene.add(tissue(rng.uniform(40, 60)));

  paintBody(scene, t, { fat: ids.fat, muscle: ids.muscle, cavity: ids.cavity }, rng.fork('body'));
  const cav = [ids.cavity];
  paintSpine(scene, t, { cortex: bone, marrow, canal: csf, muscle: ids.muscle }, cav);
  // Lung bases and heart at the top of the field of view (only seen when it reaches the chest).
  for (const lung of lungRegions(t, rng.fork('lungs'), 180, 125)) scene.paint(lung, ids.lung, { over: cav });
  scene.paint(ellipsoid(at(t, -20, 45, 165), [60, 50, 50]), heart, { over: [...cav, ids.lung] });
  // Great vessels along the spine.
  scene.paint(cylinderZ([t.cx - 15, t.spineY + 32], [11, 11], t.zMin, t.zMax), blood, { over: cav });
  scene.paint(cylinderZ([t.cx + 24, t.spineY + 30], [12, 10], t.zMin, t.zMax), blood, { over: cav });
  // Kidneys: cortex around medulla.
  for (const s of [-1, 1]) {
    const k = ellipsoid(
      jitter(rng, at(t, s * 70, t.spineY - t.cy + 5, -25), 6),
      scale(rng, [26, 23, 50], 0.12),
      rotation([0, 0, 1], s * 0.4),
      { rng: rng.fork('kidney', s), cells: 3, amp: 0.06 },
    );
    scene.paintLayers(
      k,
      [
        { below: 0, tissue: kidneyCortex },
        { below: -0.4, tissue: kidneyMedulla },
      ],
      cav,
    );
  }

  // Pancreas: head by the duodenum, body in front of the aorta, tail towards the splenic hilum, with the
  // splenic vein running behind it.
  const sy = t.spineY - t.cy;
  const pancCtrl: Vec3[] = [
    at(t, 28, sy + 42, -8),
    at(t, 5, sy + 58, 5),
    at(t, -30, sy + 52, 14),
    at(t, -68, sy + 30, 28),
  ].map((p) => jitter(rng, p, 6));
  const pancreasPath = smoothPath(pancCtrl, 4);
  const pancreasRadius = visibleRadius(grid, rng.uniform(10, 14));
  const veinPath = pancreasPath.map((p) => [p[0], p[1] - 12, p[2]] as Vec3);
  for (const seg of tubeThrough(veinPath, visibleRadius(grid, 5, 0.5)))
    scene.paint(seg, blood, { over: cav });
  for (const seg of tubeThrough(pancreasPath, pancreasRadius * 1.25, pancreasRadius * 0.7)) {
    scene.paint(seg, ids.pancreas, { over: cav });
  }
  // Duodenum: the C-loop around the pancreatic head.
  const duo = smoothPath(
    [at(t, 35, sy + 70, 25), at(t, 52, sy + 48, -5), at(t, 40, sy + 34, -30), at(t, 0, sy + 42, -38)],
    3,
  );
  paintHollowTube(scene, tubeThrough(duo, 12), bowelWall, bowelContent, -0.25, cav);

  // Colon frame: caecum, ascending, transverse (in front), descending, sigmoid, rectum.
  const colonCtrl: Vec3[] = [
    at(t, 80, 30, -100),
    at(t, 85, 20, -55),
    at(t, 72, 58, -40),
    at(t, 20, 88, -52),
    at(t, -40, 88, -45),
    at(t, -85, 52, -10),
    at(t, -90, 25, -70),
    at(t, -50, 50, -130),
    at(t, -10, 45, -155),
    at(t, 0, sy + 25, -195),
  ].map((p) => jitter(rng, p, 8));
  const colonPath = smoothPath(colonCtrl, 4);
  const colonRadius = visibleRadius(grid, rng.uniform(20, 27));
  const colonWall = -Math.min(0.4, 4 / colonRadius);
  paintHollowTube(scene, tubeThrough(colonPath, colonRadius), ids.colonWall, ids.colonLumen, colonWall, cav);
  // Small-bowel loops filling the lower abdomen.
  const lower = ellipsoid(at(t, 0, 40, -95), [70, 45, 50]);
  for (let n = 0; n < 5; n++) {
    const loop = growTree(rng.fork('bowel', n), {
      start: jitter(rng, at(t, 0, 45, -95), 40),
      direction: rng.unitVector(),
      radius: visibleRadius(grid, rng.uniform(10, 13)),
      minRadius: 1,
      step: 14,
      taper: 1,
      branchChance: 0,
      wander: 0.8,
      maxSegments: rng.int(8, 14),
      inside: (p) => lower.level(p[0], p[1], p[2]) < 0,
    });
    paintHollowTube(scene, loop, bowelWall, bowelContent, -0.25, cav);
  }
  const liver = ellipsoid(
    jitter(rng, at(t, 65, 15, 45), 8),
    scale(rng, [85, 88, 75], 0.1),
    randomRotation(rng, 0.25),
    { rng: rng.fork('liver'), cells: 3, amp: 0.15 },
  );
  scene.paint(liver, ids.liver, { over: [...cav, ids.lung] });
  // Gallbladder under the liver: fluid, not liver, even in the liver task.
  scene.paint(ellipsoid(jitter(rng, at(t, 40, 60, -5), 6), scale(rng, [15, 14, 28], 0.2)), fluid, {
    over: [...cav, ids.liver],
  });
  paintLiverVessels(
    scene,
    rng.fork('vessels'),
    liver,
    ids.liver,
    ids.liverVessel,
    opts.vesselSegments ?? 120,
  );

  const spleen = ellipsoid(
    jitter(rng, at(t, -88, t.spineY - t.cy + 25, 45), 8),
    scale(rng, [28, 52, 45], 0.15),
    rotation([0, 0, 1], rng.uniform(0.4, 0.8)),
    { rng: rng.fork('spleen'), cells: 3, amp: 0.12 },
  );
  scene.paint(spleen, ids.spleen, { over: [...cav, ids.lung] });

  // Stomach: wall, fluid content and an air cap at the front.
  const stomach = ellipsoid(
    jitter(rng, at(t, -45, 60, 60), 8),
    scale(rng, [42, 32, 45], 0.15),
    randomRotation(rng, 0.3),
  );
  scene.paintLayers(
    stomach,
    [
      { below: 0, tissue: bowelWall },
      { below: -0.12, tissue: fluid },
    ],
    cav,
  );
  scene.paint(ellipsoid(at(t, -45, 82, 75), [25, 10, 15]), ids.air, { over: [fluid] });

  // Pelvis: iliac wings and bladder (only seen when the field of view reaches down there).
  for (const s of [-1, 1]) {
    scene.paintLayers(
      ellipsoid(at(t, s * 95, sy + 25, -160), [14, 48, 45], rotation([0, 0, 1], s * 0.5)),
      [
        { below: 0, tissue: bone },
        { below: -0.3, tissue: marrow },
      ],
      [...cav, ids.muscle],
    );
  }
  scene.paint(ellipsoid(at(t, 0, 55, -205), scale(rng, [45, 35, 35], 0.2)), fluid, { over: cav });
  paintRibs(
    scene,
    t,
    -10,
    170,
    bone,
    [ids.fat, ids.muscle, ids.cavity, ids.lung, ids.liver, ids.spleen],
    rng.fork('ribs'),
  );

  return {
    scene,
    torso,
    ids,
    liverHU,
    pancreasHU,
    liver,
    pancreasPath,
    pancreasRadius,
    colonPath,
    colonRadius,
  };
}

/** Portal and hepatic vein trees inside the liver, painted only over liver tissue. */
function paintLiverVessels(
  scene: Scene,
  rng: Rng,
  liver: Region,
  liverId: number,
  vesselId: number,
  segments: number,
): void {
  const minR = visibleRadius(scene.grid, 1.2, 0.35);
  const c = liver.min.map((m, a) => (m + liver.max[a]!) / 2) as Vec3;
  // Portal vein enters at the hilum (medial, inferior), hepatic veins leave at the top towards the IVC.
  const roots: { start: Vec3; dir: Vec3 }[] = [
    { start: [c[0] - 25, c[1] - 10, c[2] - 20], dir: [1, 0.2, 0.3] },
    { start: [c[0] - 20, c[1] - 20, c[2] + 30], dir: [0.6, 0.3, -0.6] },
    { start: [c[0] - 10, c[1] + 5, c[2] + 25], dir: [0.5, 0.6, -0.4] },
  ];
  roots.forEach((root, n) => {
    const tree = growTree(rng.fork('tree', n), {
      start: root.start,
      direction: root.dir,
      radius: visibleRadius(scene.grid, rng.uniform(5, 7), 0.45),
      minRadius: minR,
      step: 7,
      taper: 0.95,
      branchChance: 0.3,
      wander: 0.35,
      maxSegments: Math.round(segments / roots.length),
      inside: (p) => liver.level(p[0], p[1], p[2]) < 0.05,
    });
    for (const seg of tree) scene.paint(seg, vesselId, { over: [liverId] });
  });
}
