// Volumes (x fastest in memory, as NIfTI stores them) as engine tensors in array order [z, y, x]:
// the same memory read C-order, so no copy of the voxels is needed beyond the scaling.
import { Tensor, tidy, indexSelect, zeros } from '../engine/index.js';
import { scaledValues } from '../io/values.js';
import type { Volume } from '../io/volume.js';

/** Spatial shape in array order (z, y, x) of a volume stored as [nx, ny, nz(, nt)]. */
export const arrayShape = (vol: Pick<Volume, 'shape'>): number[] => [
  vol.shape[2] ?? 1,
  vol.shape[1]!,
  vol.shape[0]!,
];

/** Spacing in array order (z, y, x). */
export const arraySpacing = (vol: Pick<Volume, 'spacing'>): number[] => [
  vol.spacing[2],
  vol.spacing[1],
  vol.spacing[0],
];

/** The real (scaled) values of a 3D volume as a float32 tensor [z, y, x]. */
export function volumeToTensor(vol: Volume): Tensor {
  const values = scaledValues(vol, 'float32') as Float32Array;
  return Tensor.fromArray(values, arrayShape(vol), 'float32');
}

/** Channels (3D volumes of one shape) stacked as [C, z, y, x], filled in one buffer (one copy into libtorch). */
export function channelsToTensor(channels: Volume[]): Tensor {
  const n = channels[0]!.data.length;
  const all = new Float32Array(n * channels.length);
  channels.forEach((v, c) => {
    if (v.data.length !== n) throw new Error(`channel ${c} has ${v.data.length} voxels, channel 0 has ${n}`);
    if (v.datatype === 'float32' && v.sclSlope === 1 && v.sclInter === 0)
      all.set(v.data as Float32Array, c * n);
    else all.set(scaledValues(v, 'float32') as Float32Array, c * n);
  });
  return Tensor.fromArray(all, [channels.length, ...arrayShape(channels[0]!)], 'float32');
}

/** Integer labels of a volume as int64 [z, y, x]; throws when a value is not an integer. */
export function labelsToTensor(vol: Volume, file = 'label'): Tensor {
  const values =
    vol.datatype.startsWith('float') || vol.sclSlope !== 1 || vol.sclInter !== 0 ? scaledValues(vol) : null;
  if (values) {
    let bad = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== Math.round(values[i]!)) bad++;
    if (bad) throw new Error(`${file}: ${bad} label voxels are not integers`);
  }
  return tidy(() => (values ? Tensor.fromArray(values, arrayShape(vol)) : volumeToTensor(vol)).to('int64'));
}

/** A label map [z, y, x] back into a Volume with the geometry of `like` (uint8 or int16 storage). */
export function labelsToVolume(labels: Tensor, like: Volume): Volume {
  return tidy(() => {
    const max = labels.amax().item();
    const min = labels.amin().item();
    const small = min >= 0 && max < 256;
    const data = labels
      .to(small ? 'uint8' : 'int16')
      .contiguous()
      .toArray() as Uint8Array | Int16Array;
    return {
      data,
      shape: like.shape.slice(0, 3),
      spacing: like.spacing,
      affine: like.affine.map((r) => [...r]),
      datatype: small ? 'uint8' : 'int16',
      sclSlope: 1,
      sclInter: 0,
    } as Volume;
  });
}

/** Label values → class indices 0..K-1 (plans.labelValues order). */
export function toClassIndices(labels: Tensor, labelValues: number[]) {
  return tidy(() => {
    if (labelValues.every((v, i) => v === i)) return labels.clone();
    let out = labels.mul(0);
    labelValues.forEach((v, i) => {
      if (i > 0) out = out.add(labels.eq(v).to('int64').mul(i));
    });
    return out;
  });
}

/**
 * The label values of region probabilities [R, ...] (region-based plans): writeAs[r] where region r's
 * probability exceeds 0.5, later regions written over earlier ones (nnU-Net's regions_class_order), 0
 * where no region is found.
 */
export function regionLabelValues(probs: Tensor, writeAs: number[]): Tensor {
  return tidy(() =>
    writeAs.reduce(
      (out, v, r) => out.maskedFill(probs.select(0, r).gt(0.5), v),
      zeros(probs.shape.slice(1), { dtype: 'int64' }),
    ),
  );
}

/** Label values of a prediction: regions thresholded when the plan has them, else the argmax class. */
export function predictedLabelValues(
  probs: Tensor,
  plans: { labelValues: number[]; regions?: { writeAs: number }[] },
): Tensor {
  return plans.regions
    ? regionLabelValues(
        probs,
        plans.regions.map((r) => r.writeAs),
      )
    : argmaxLabelValues(probs, plans.labelValues);
}

/** The label value (plans.labelValues order) of the most probable class of probabilities [K, ...]. */
export function argmaxLabelValues(probs: Tensor, labelValues: number[]): Tensor {
  return tidy(() => {
    const idx = probs.argmax(0);
    const lut = Tensor.fromArray(BigInt64Array.from(labelValues.map(BigInt)), [labelValues.length]);
    return indexSelect(lut, 0, idx.flatten()).reshape(...idx.shape);
  });
}
