// MSD Task01 Brain Tumour: skull-stripped, co-registered multi-parametric MRI (FLAIR, T1w, T1gd, T2w)
// of a glioma. The labels nest: oedema surrounds the tumour core (non-enhancing / necrotic), which holds
// the enhancing part, so nnU-Net trains on the regions whole tumour ⊃ tumour core ⊃ enhancing.
import type { Vec3 } from '../grid.js';
import { count, erode } from '../morph.js';
import { cylinderZ, ellipsoid, randomRotation, rotation, type Region } from '../regions.js';
import { Scene } from '../scene.js';
import type { SynthTask } from '../task.js';
import { finishMRI, jitter, pointInside, scale, visible } from './common.js';

// Mean intensity per channel [FLAIR, T1w, T1gd, T2w], arbitrary units.
const CSF = [60, 120, 120, 650];
const GM = [320, 360, 360, 380];
const WM = [260, 460, 460, 260];
const OEDEMA = [600, 300, 300, 520];
const CORE = [420, 210, 230, 580];
const ENHANCING = [470, 320, 780, 420];

export const brainTumourTask: SynthTask = {
  key: 'brain-tumour',
  number: 1,
  name: 'BrainTumour',
  description: 'Synthetic multi-parametric brain MRI: glioma sub-regions (oedema, non-enhancing, enhancing)',
  modality: 'MRI',
  channelNames: ['FLAIR', 'T1w', 'T1gd', 'T2w'],
  labels: { background: 0, 'whole tumour': [1, 2, 3], 'tumour core': [2, 3], 'enhancing tumour': 3 },
  regionClassOrder: [1, 2, 3],
  sizes: {
    tiny: { shape: [32, 32, 24], spacing: [7.5, 7.5, 6.5] },
    small: { shape: [120, 120, 78], spacing: [2, 2, 2] },
    realistic: { shape: [240, 240, 155], spacing: [1, 1, 1] },
  },
  spacingJitter: 0,
  flip: [1, 1, 1],
  generate(rng, grid) {
    const vary = (v: number[]): number[] => v.map((x) => x * rng.uniform(0.9, 1.1));
    const scene = new Scene(grid, { label: 0, values: [0, 0, 0, 0] });
    const csf = scene.add({ label: 0, values: vary(CSF) });
    const gm = scene.add({ label: 0, values: vary(GM), texture: [15, 15, 15, 15] });
    const wm = scene.add({ label: 0, values: vary(WM), texture: [10, 10, 10, 10] });
    const oedema = scene.add({ label: 1, values: vary(OEDEMA), texture: [40, 20, 20, 40] });
    const core = scene.add({ label: 2, values: vary(CORE), texture: [50, 30, 40, 60] });
    const enhancing = scene.add({ label: 3, values: vary(ENHANCING), texture: [30, 20, 80, 30] });

    // Brain: a thin CSF rim, cortex, and a gyrated white-matter core.
    const centre: Vec3 = jitter(rng, [0, -5, 0], 4);
    const radii = scale(rng, [66, 82, 60], 0.06);
    const brain = ellipsoid(centre, radii, randomRotation(rng, 0.08), {
      rng: rng.fork('brain'),
      cells: 4,
      amp: 0.05,
    });
    scene.paintLayers(brain, [
      { below: 0, tissue: csf },
      { below: -0.03, tissue: gm },
    ]);
    const white = ellipsoid(centre, radii.map((r) => r * 0.8) as Vec3, rotation([0, 0, 1], 0), {
      rng: rng.fork('wm'),
      cells: 9,
      amp: 0.09,
    });
    scene.paint(white, wm, { over: [gm] });
    // Interhemispheric fissure and the lateral ventricles.
    scene.paint(
      cylinderZ([centre[0], centre[1]], [1.5, radii[1]], centre[2] + 5, centre[2] + radii[2]),
      csf,
      { over: [gm, wm] },
    );
    for (const s of [-1, 1]) {
      const v = ellipsoid(
        [centre[0] + s * 9, centre[1] + 2, centre[2] + 8],
        visible(grid, scale(rng, [6, 24, 11], 0.2)),
        rotation([0, 0, 1], s * 0.25),
      );
      scene.paint(v, csf, { over: [gm, wm] });
    }

    // Tumour in one hemisphere: whole tumour, then a core strictly inside it, then enhancing tumour
    // strictly inside the core (erosion keeps a one-voxel margin at any resolution).
    const side = rng.chance(0.5) ? 1 : -1;
    const hemisphere = ellipsoid(
      [centre[0] + side * radii[0] * 0.45, centre[1], centre[2]],
      [radii[0] * 0.4, radii[1] * 0.7, radii[2] * 0.65],
    );
    const tc = pointInside(rng, hemisphere, -0.2);
    const wr = visible(
      grid,
      scale(rng, [rng.uniform(20, 34), rng.uniform(20, 34), rng.uniform(18, 30)], 0.1),
      3.5,
    );
    const tumourRot = randomRotation(rng, Math.PI);
    scene.paint(ellipsoid(tc, wr, tumourRot, { rng: rng.fork('wt'), cells: 4, amp: 0.22 }), oedema, {
      over: [gm, wm, csf],
    });
    nestInside(
      scene,
      oedema,
      core,
      ellipsoid(jitter(rng, tc, 3), wr.map((r) => r * rng.uniform(0.45, 0.65)) as Vec3, tumourRot, {
        rng: rng.fork('tc'),
        cells: 3,
        amp: 0.2,
      }),
    );
    nestInside(
      scene,
      core,
      enhancing,
      ellipsoid(tc, wr.map((r) => r * rng.uniform(0.25, 0.4)) as Vec3, tumourRot, {
        rng: rng.fork('et'),
        cells: 3,
        amp: 0.25,
      }),
    );

    const channels = finishMRI(
      scene,
      rng.fork('mri'),
      [0, 1, 2, 3].map(() => ({ noise: 0.025, reference: 400, bias: 0.2 })),
    );
    return { channels, label: scene.labelMap() };
  },
};

/**
 * Paints `child` with `shape`, but only over `parent` voxels whose 6 neighbours are all parent too, so
 * the child never touches what lies outside the parent. Where the shape misses that interior (a coarse
 * grid), the parent's eroded interior itself becomes the child: the nesting is never empty.
 */
function nestInside(scene: Scene, parent: number, child: number, shape: Region): void {
  const interior = erode(scene.mask([parent]), scene.grid.shape);
  const probe = scene.add({ label: 0, values: [] });
  scene.paint(shape, probe, { over: [parent] });
  for (let i = 0; i < scene.tissue.length; i++) {
    if (scene.tissue[i] === probe) scene.tissue[i] = interior[i] ? child : parent;
  }
  if (count(scene.mask([child])) === 0) {
    const deeper = erode(interior, scene.grid.shape);
    scene.assign(count(deeper) > 0 ? deeper : interior, child, [parent]);
  }
}
