// The trunk shared by the CT tasks and the cardiac MRI: an elliptic body outline with fat and muscle
// layers, the spine with paraspinal muscles, and ribs. Tissue ids are passed in, so each modality
// decides what the tissues look like.
import { fov, type Grid, type Vec3 } from '../grid.js';
import type { Rng } from '../../common/random.js';
import { cylinderZ, ellipsoid, type Region } from '../regions.js';
import type { Scene } from '../scene.js';
import { tubeThrough, smoothPath } from '../tubes.js';

export interface Torso {
  /** Shift of the whole anatomy in this case, mm. */
  offset: Vec3;
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** y of the vertebral body centre. */
  spineY: number;
  zMin: number;
  zMax: number;
  outline: Region;
}

/** Draws one patient's trunk size and position. */
export function drawTorso(rng: Rng, grid: Grid, width: [number, number] = [140, 172]): Torso {
  const offset: Vec3 = [rng.uniform(-10, 10), rng.uniform(-8, 8), rng.uniform(-20, 20)];
  const rx = rng.uniform(width[0], width[1]);
  const ry = rx * rng.uniform(0.68, 0.8);
  const cx = offset[0];
  const cy = -10 + offset[1];
  const half = fov(grid)[2] / 2 + 20;
  const outline = cylinderZ([cx, cy], [rx, ry], -half, half, {
    rng: rng.fork('outline'),
    cells: 4,
    amp: 0.04,
  });
  return { offset, cx, cy, rx, ry, spineY: cy - ry + 62, zMin: -half, zMax: half, outline };
}

/** Position relative to the torso: x from its centre, y from its centre, z shifted with the anatomy. */
export function at(t: Torso, x: number, y: number, z: number): Vec3 {
  return [t.cx + x, t.cy + y, z + t.offset[2]];
}

export interface BodyTissues {
  fat: number;
  muscle: number;
  cavity: number;
}

/** Subcutaneous fat, the muscle wall and the cavity inside, in one pass over the outline. */
export function paintBody(scene: Scene, t: Torso, ids: BodyTissues, rng: Rng): void {
  const fat = rng.uniform(0.04, 0.11);
  scene.paintLayers(t.outline, [
    { below: 0, tissue: ids.fat },
    { below: -fat, tissue: ids.muscle },
    { below: -fat - 0.06, tissue: ids.cavity },
  ]);
}

export interface SpineTissues {
  cortex: number;
  marrow: number;
  canal: number;
  muscle: number;
}

/** Vertebral column along z: body (cortex, marrow), canal, and the paraspinal muscles beside it. */
export function paintSpine(scene: Scene, t: Torso, ids: SpineTissues, over: readonly number[]): void {
  for (const s of [-1, 1]) {
    scene.paint(cylinderZ([t.cx + 32 * s, t.spineY - 38], [24, 19], t.zMin, t.zMax), ids.muscle, { over });
  }
  scene.paintLayers(
    cylinderZ([t.cx, t.spineY], [21, 17], t.zMin, t.zMax),
    [
      { below: 0, tissue: ids.cortex },
      { below: -0.18, tissue: ids.marrow },
    ],
    over,
  );
  scene.paint(cylinderZ([t.cx, t.spineY - 28], [8, 7], t.zMin, t.zMax), ids.canal, {
    over: [...over, ids.muscle],
  });
  // Posterior elements: a bony arch behind the canal.
  scene.paint(cylinderZ([t.cx, t.spineY - 40], [7, 6], t.zMin, t.zMax), ids.cortex, {
    over: [...over, ids.muscle],
  });
}

/** Pairs of ribs every ~27 mm between zLow and zHigh, sloping down as they run forward in the wall. */
export function paintRibs(
  scene: Scene,
  t: Torso,
  zLow: number,
  zHigh: number,
  rib: number,
  over: readonly number[],
  rng: Rng,
): void {
  const r = Math.max(5, 0.6 * Math.max(scene.grid.spacing[0], scene.grid.spacing[1]));
  for (let z = zHigh; z > zLow; z -= rng.uniform(25, 30)) {
    for (const s of [-1, 1]) {
      const ctrl: Vec3[] = [];
      for (let q = 0; q <= 5; q++) {
        const phi = 0.35 + (q / 5) * 1.9;
        ctrl.push([
          t.cx + s * t.rx * 0.94 * Math.sin(phi),
          t.cy - t.ry * 0.94 * Math.cos(phi),
          z + t.offset[2] - (q / 5) * 30,
        ]);
      }
      for (const seg of tubeThrough(smoothPath(ctrl, 2), r)) scene.paint(seg, rib, { over });
    }
  }
}

/** Lungs as two lobulated blobs; `zCentre` is where they are widest. */
export function lungRegions(t: Torso, rng: Rng, zCentre: number, height: number): Region[] {
  return [-1, 1].map((s) =>
    ellipsoid(
      at(t, s * t.rx * 0.5, 5, zCentre),
      [t.rx * rng.uniform(0.38, 0.44), t.ry * rng.uniform(0.68, 0.78), height * rng.uniform(0.9, 1.05)],
      undefined,
      { rng: rng.fork('lung', s), cells: 3, amp: 0.1 },
    ),
  );
}
