// Plans transfer by themselves: the fine-tuned model keeps the source's network (architecture,
// depth, widths, kernels, strides) and patch, since those are what the pre-trained weights mean,
// and takes from the target's own plan (made from the target's fingerprint) everything that
// describes the target's data: spacing, normalisation, channels, label set, interpolation. The
// result is an ordinary plans.json holding the one configuration being fine-tuned, so that train,
// predict and find-best need not know the model was fine-tuned.
// The patch may come from the target instead (`finetune --patch target`): a convolutional network's weights
// do not depend on the patch, and a source planned for small images (a multi-task model's patch is the
// smallest of its tasks') would otherwise train and predict a large-image target through a keyhole.
import {
  trainingBytesPerSample,
  type Plans,
  type ConfigurationName,
  type Configuration,
} from '../plan/planner.js';
import { validateSpec, type UNetSpec } from '../nn/unet.js';
import { outputChannels } from '../plan/regions.js';
import { totalStride } from '../plan/topology.js';

const ARCHITECTURES = ['plain', 'residual'];

/** One line saying why a source's network cannot start the target configuration, or null. */
export function sourceProblem(
  source: Configuration,
  sourceName: string,
  target: ConfigurationName,
  targetDims: number,
): string | null {
  const net = source.network;
  if (!ARCHITECTURES.includes(net.architecture))
    return `${sourceName}: unknown architecture '${String(net.architecture)}' (medseg builds ${ARCHITECTURES.join(', ')})`;
  const errs = validateSpec(net);
  if (errs.length) return `${sourceName}: its network spec is invalid (${errs.join('; ')})`;
  if (net.dims !== targetDims)
    return (
      `${sourceName} is a ${net.dims}D network and cannot start the ${targetDims}D configuration ${target}: ` +
      `fine-tune --config ${net.dims === 2 ? '2d' : '3d_fullres'}, or start from a ${targetDims}D model`
    );
  if (source.cascade)
    return `${sourceName} is a cascade stage (its inputs include stage 1's prediction): start from 3d_fullres or 3d_lowres`;
  return null;
}

/** Where the fine-tuned configuration's patch comes from. */
export type PatchFrom = 'source' | 'target';

/**
 * The target's own planned patch on the source's network. The network fixes each axis's total stride,
 * so every axis is rounded down to a multiple of it (at least one stride); then, while one batch
 * of the target's planned size would need more memory than the target's plan allows (the source
 * network may be wider than the one the target was planned for), the axis largest relative to the
 * target's median image gives up one stride.
 */
export function targetPatchOnNetwork(own: Configuration, network: UNetSpec, memoryGb: number): number[] {
  const total = totalStride(network.strides, own.patch.length);
  const patch = own.patch.map((p, d) => Math.max(1, Math.floor(p / total[d]!)) * total[d]!);
  const fits = () =>
    trainingBytesPerSample(patch, network.features, network.strides, network.inputChannels) * own.batchSize <=
    memoryGb * 2 ** 30;
  const median = own.medianShape.slice(-patch.length); // a 2D patch is the last two axes
  while (!fits()) {
    const shrinkable = patch.map((p, d) => (p > total[d]! ? p / median[d]! : -1));
    const d = shrinkable.indexOf(Math.max(...shrinkable));
    if (shrinkable[d]! < 0) break; // one stride per axis: the smallest patch this network takes
    patch[d] -= total[d]!;
  }
  return patch;
}

/**
 * The target's plans with `targetConfig` built on the source configuration's network and patch (or
 * the target's own patch fitted to that network: `patchFrom: 'target'`). `targetPlanned` is what
 * the planner made of the target's fingerprint.
 */
export function transferPlans(
  source: Configuration,
  sourceName: string,
  targetPlanned: Plans,
  targetConfig: ConfigurationName,
  patchFrom: PatchFrom = 'source',
): Plans {
  if (targetConfig === '3d_cascade_prior' || targetConfig === '3d_cascade_crop')
    throw new Error(
      `finetune: --config ${targetConfig} is a cascade stage; fine-tune 3d_fullres, 3d_lowres or 2d`,
    );
  const own = targetPlanned.configurations[targetConfig];
  if (!own)
    throw new Error(
      `finetune: the target dataset's plan has no ${targetConfig} (it has ${Object.keys(targetPlanned.configurations).join(', ')})`,
    );
  const problem = sourceProblem(source, sourceName, targetConfig, own.network.dims);
  if (problem) throw new Error(problem);
  const network: UNetSpec = {
    ...source.network,
    inputChannels: targetPlanned.channelNames.length,
    numClasses: outputChannels(targetPlanned),
    deepSupervision: true,
  };
  const config: Configuration = {
    ...own,
    ...(patchFrom === 'source'
      ? { patch: [...source.patch], batchSize: source.batchSize }
      : { patch: targetPatchOnNetwork(own, network, targetPlanned.memoryGb), batchSize: own.batchSize }),
    network,
  };
  return { ...targetPlanned, configurations: { [targetConfig]: config } };
}
