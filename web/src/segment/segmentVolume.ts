// One volume segmented in the page by an export's networks: the non-zero crop of the source voxels
// is the only float copy made (the pipeline's own crop then finds nothing more to cut), the shared
// pipeline (src/deploy/pipeline.ts) runs on it, and the label map goes back into the whole volume.
// The result equals `medseg predict -m EXPORT_DIR`: the crop's share of the volume, which decides
// whether z-score normalisation uses the foreground mask, is taken from the whole volume as there.
import type { ExportManifest, ExportedConfiguration } from '../../../src/export/manifest';
import type { Volume } from '../../../src/io/volume';
import { numel, type BBox, type ChannelVolume } from '../../../src/deploy/arrays';
import {
  Predictor,
  argmaxChannels,
  ensembleProbabilities,
  labelValuesOf,
  type LoadedConfiguration,
} from '../../../src/deploy/pipeline';

/** Channels of a NIfTI volume: its 4th dimension, 1 for a 3D one. */
export const channelsOf = (shape: number[]) => (shape.length > 3 ? shape[3]! : 1);

/** The box (z, y, x) of voxels whose real value is non-zero in any channel; the whole when none is. */
export function nonzeroBoxOfSource(v: Volume): BBox {
  const [nx, ny, nz] = v.shape as [number, number, number];
  const C = channelsOf(v.shape);
  const d = v.data as ArrayLike<number | bigint>;
  const lo = [nz, ny, nx];
  const hi = [-1, -1, -1];
  for (let c = 0, i = 0; c < C; c++)
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++, i++) {
          if (Math.fround(Number(d[i]!) * v.sclSlope + v.sclInter) === 0) continue;
          if (z < lo[0]!) lo[0] = z;
          if (z > hi[0]!) hi[0] = z;
          if (y < lo[1]!) lo[1] = y;
          if (y > hi[1]!) hi[1] = y;
          if (x < lo[2]!) lo[2] = x;
          if (x > hi[2]!) hi[2] = x;
        }
  if (hi[0]! < 0) return [nz, ny, nx].map((s) => [0, s] as [number, number]);
  return lo.map((l, k) => [l, hi[k]! + 1] as [number, number]);
}

/** Real values (stored × slope + inter, float32, as medseg's reader gives) of the box, [C, z, y, x]. */
export function floatCrop(v: Volume, box: BBox): ChannelVolume {
  const [nx, ny, nz] = v.shape as [number, number, number];
  const C = channelsOf(v.shape);
  const size = box.map(([a, b]) => b - a) as [number, number, number];
  const out = new Float32Array(C * numel(size));
  const d = v.data as ArrayLike<number | bigint>;
  const [[z0], [y0], [x0]] = box as [[number, number], [number, number], [number, number]];
  let o = 0;
  for (let c = 0; c < C; c++)
    for (let z = 0; z < size[0]; z++)
      for (let y = 0; y < size[1]; y++) {
        const row = ((c * nz + z0 + z) * ny + y0 + y) * nx + x0;
        for (let x = 0; x < size[2]; x++) out[o++] = Number(d[row + x]!) * v.sclSlope + v.sclInter;
      }
  return { data: out, channels: C, shape: size };
}

/** The export with every 'auto' mask decision made for this image (crop share < 3/4: masked). */
function resolvedManifest(m: ExportManifest, cropFraction: number): ExportManifest {
  const resolve = (c: ExportedConfiguration): ExportedConfiguration => ({
    ...c,
    normalization: c.normalization.map((p) => ({ ...p, useMask: p.useMask ?? cropFraction < 0.75 })),
  });
  return { ...m, configurations: m.configurations.map(resolve) };
}

export interface SegmentOptions {
  mirror: boolean;
  progress?: (done: number, total: number) => void;
}

/** The label map of `v` (the source's geometry), from the networks of every needed configuration. */
export async function segmentVolume(
  v: Volume,
  box: BBox,
  m: ExportManifest,
  nets: Map<string, LoadedConfiguration>,
  o: SegmentOptions,
): Promise<Volume> {
  const [nx, ny, nz] = v.shape as [number, number, number];
  const crop = floatCrop(v, box);
  const fraction = numel(crop.shape) / (nx * ny * nz);
  const resolved = resolvedManifest(m, fraction);
  const loaded = new Map(
    [...nets].map(([name, l]) => [
      name,
      { ...l, config: resolved.configurations.find((c) => c.name === name)! },
    ]),
  );
  const predictor = new Predictor(resolved, loaded, { mirror: o.mirror, progress: o.progress });
  const spacing = [v.spacing[2], v.spacing[1], v.spacing[0]];
  const probs = await ensembleProbabilities(predictor, m.members, crop, spacing);
  crop.data = new Float32Array(0);
  const { labels: cropLabels, datatype } = labelValuesOf(argmaxChannels(probs), m.labelValues);
  const labels = datatype === 'uint8' ? new Uint8Array(nx * ny * nz) : new Int16Array(nx * ny * nz);
  if (m.labelValues[0]) labels.fill(m.labelValues[0]);
  const [[z0, z1], [y0, y1], [x0, x1]] = box as [[number, number], [number, number], [number, number]];
  const w = x1 - x0;
  for (let z = z0, i = 0; z < z1; z++)
    for (let y = y0; y < y1; y++, i += w) labels.set(cropLabels.subarray(i, i + w), (z * ny + y) * nx + x0);
  return {
    data: labels,
    shape: [nx, ny, nz],
    spacing: v.spacing,
    affine: v.affine.map((r) => [...r]),
    datatype,
    sclSlope: 1,
    sclInter: 0,
  };
}
