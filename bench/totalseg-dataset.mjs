// TotalSegmentator's reference outputs as a pre-training dataset (issue 12: "the TotalSegmentator
// reference masks are labels too: another model's, 117 CT classes"). Used by bench/fewshot.mjs.
//
// Which pair. Of the shared folder's CT images, only example_ct.nii.gz (122×101×112, 3 mm) has a mask
// on its own grid: example_seg_fast_force_split.nii.gz (same shape and affine, checked below). The
// other CT masks (example_seg, example_seg_fast, example_seg_roi_subset) lie on example_ct_sm, which
// is slices 82–111 of example_ct again (voxel for voxel): a second opinion on the same voxels, not
// another case, so it is left out; example_seg_dicom belongs to the DICOM series and example_seg_mr to
// the MR image (another modality and class map).
//
// Cases. One volume would be one case, and a split needs at least two: the volume is cut along z
// into three slabs of ~37 slices (~11 cm: pelvis, abdomen, lower thorax), each a case with its own
// affine (origin moved to its first slice), so that fold 0 trains on two and validates on the third
// (disjoint voxels). Slabs, not halves: two of three slabs train rather than one of two.
//
// Classes. The 117 classes are grouped into 7 tissue systems (GROUPS below): the mask is a 3 mm
// prediction of the fast model with 62 of the 117 classes present, many of them a few hundred voxels
// (each rib ~100–200); telling rib 7 from rib 8 or L2 from L3 is counting along the body, which a
// patch does not see, while bone vs organ vs vessel vs muscle vs lung vs gut vs nervous tissue is
// what the shared body can learn from these voxels and carry to another task. The head is replaced
// at fine-tuning anyway (the targets' labels differ), and 7 well-populated classes keep the Dice term
// from being dominated by absent ones. Spinal cord (79) and brain (90) form the nervous-system group:
// related to the spinal-cord target's label, in CT of other patients (not the target's images).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readNifti, writeNifti } from '../dist/src/io/index.js';

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Group → TotalSegmentator v2 ('total') class ids (class_map_total_total_mr.json). */
export const GROUPS = {
  solid_organs: [1, 2, 3, 4, 5, 7, 8, 9, 17, 21, 22, 23, 24], // spleen, kidneys, gallbladder, liver, pancreas, adrenals, thyroid, bladder, prostate, kidney cysts
  gastrointestinal: [6, 15, 18, 19, 20], // stomach, oesophagus, small bowel, duodenum, colon
  lungs_airway: [10, 11, 12, 13, 14, 16], // five lobes, trachea
  heart_vessels: range(51, 68), // heart, aorta, pulmonary vein, arteries, venae cavae, portal/splenic, iliac vessels
  bones: [...range(25, 50), ...range(69, 78), 91, ...range(92, 117)], // sacrum, vertebrae, limbs, hips, skull, ribs, sternum, costal cartilages
  muscles: range(80, 89), // gluteal, autochthon, iliopsoas
  nervous_system: [79, 90], // spinal cord, brain
};

export const FOLDER = 'Dataset203_TotalSegCT';
const IMAGE = 'example_ct.nii.gz';
const MASK = 'example_seg_fast_force_split.nii.gz';
const SLABS = 3;

/** Class id → group label (1..7), every one of the 117 classes in exactly one group. */
function lookup() {
  const map = new Uint8Array(256);
  const seen = new Set();
  Object.values(GROUPS).forEach((ids, g) => {
    for (const id of ids) {
      if (seen.has(id)) throw new Error(`totalseg: class ${id} is in two groups`);
      seen.add(id);
      map[id] = g + 1;
    }
  });
  const missing = range(1, 117).filter((id) => !seen.has(id));
  if (missing.length) throw new Error(`totalseg: classes ${missing.join(', ')} belong to no group`);
  return map;
}

const sameGeometry = (a, b) =>
  a.shape.slice(0, 3).join() === b.shape.slice(0, 3).join() &&
  a.affine.every((row, i) => row.every((v, j) => Math.abs(v - b.affine[i][j]) < 1e-4));

/** Slices [z0, z1) of a 3D volume, its affine moved to slice z0. */
function slab(vol, z0, z1, data) {
  const [nx, ny] = vol.shape;
  const affine = vol.affine.map((row) => [...row]);
  for (let r = 0; r < 3; r++) affine[r][3] += vol.affine[r][2] * z0;
  return {
    ...vol,
    data: data.slice(nx * ny * z0, nx * ny * z1),
    shape: [nx, ny, z1 - z0],
    affine,
    header: undefined, // the stored qform/sform describe the whole volume: written anew from `affine`
  };
}

/** The dataset in `root` (written once): 3 slab cases, channel CT, 7 grouped labels. */
export async function totalsegDataset(realData, root) {
  const dir = path.join(root, FOLDER);
  if (existsSync(path.join(dir, 'dataset.json'))) return dir;
  const src = path.join(realData, 'totalsegmentator-reference');
  const image = await readNifti(path.join(src, IMAGE));
  const mask = await readNifti(path.join(src, MASK));
  if (!sameGeometry(image, mask))
    throw new Error(`totalseg: ${MASK} is not on ${IMAGE}'s grid (shape or affine differ)`);
  if (mask.sclSlope !== 1 || mask.sclInter !== 0 || !['uint8', 'int16', 'int32'].includes(mask.datatype))
    throw new Error(`totalseg: ${MASK} is not an integer label map`);
  const map = lookup();
  const labels = new Uint8Array(mask.data.length);
  for (let i = 0; i < labels.length; i++) {
    const c = Number(mask.data[i]);
    if (c < 0 || c > 117) throw new Error(`totalseg: ${MASK} has class ${c} (the map has 1..117)`);
    labels[i] = map[c];
  }
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const nz = image.shape[2];
  for (let s = 0; s < SLABS; s++) {
    const z0 = Math.round((s * nz) / SLABS);
    const z1 = Math.round(((s + 1) * nz) / SLABS);
    const id = `tsct_z${String(z0).padStart(3, '0')}`;
    await writeNifti(path.join(dir, 'imagesTr', `${id}_0000.nii.gz`), slab(image, z0, z1, image.data));
    await writeNifti(path.join(dir, 'labelsTr', `${id}.nii.gz`), {
      ...slab(mask, z0, z1, labels),
      datatype: 'uint8',
      sclSlope: 1,
      sclInter: 0,
    });
  }
  const json = {
    name: 'TotalSegCT',
    description:
      `TotalSegmentator reference output (${MASK}, the fast 3 mm model: another model's prediction, not human truth) ` +
      `on ${IMAGE}, cut into ${SLABS} z-slabs; its 117 classes grouped into ${Object.keys(GROUPS).length} tissue systems (bench/totalseg-dataset.mjs)`,
    licence: 'Apache-2.0 (totalsegmentator-reference/LICENSE)',
    channel_names: { 0: 'CT' },
    labels: { background: 0, ...Object.fromEntries(Object.keys(GROUPS).map((g, i) => [g, i + 1])) },
    numTraining: SLABS,
    file_ending: '.nii.gz',
  };
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(json, null, 2)); // last: marks it complete
  return dir;
}
