// Plans transfer by themselves: the fine-tuned model keeps the source's network (architecture,
// depth, widths, kernels, strides) and patch, since those are what the pre-trained weights mean,
// and takes from the target's own plan (made from the target's fingerprint) everything that
// describes the target's data: spacing, normalisation, channels, label set, interpolation. The
// result is an ordinary plans.json holding the one configuration being fine-tuned, so that train,
// predict and find-best need not know the model was fine-tuned.
import type { Plans, ConfigurationName, Configuration } from '../plan/planner.js';
import { validateSpec } from '../nn/unet.js';
import { outputChannels } from '../plan/regions.js';

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

/**
 * The target's plans with `targetConfig` built on the source configuration's network and patch.
 * `targetPlanned` is what the planner made of the target's fingerprint.
 */
export function transferPlans(
  source: Configuration,
  sourceName: string,
  targetPlanned: Plans,
  targetConfig: ConfigurationName,
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
  const config: Configuration = {
    ...own,
    patch: [...source.patch],
    batchSize: source.batchSize,
    network: {
      ...source.network,
      inputChannels: targetPlanned.channelNames.length,
      numClasses: outputChannels(targetPlanned),
      deepSupervision: true,
    },
  };
  return { ...targetPlanned, configurations: { [targetConfig]: config } };
}
