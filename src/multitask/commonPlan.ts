// The network and patch all tasks share, planned for the union of their own 3d_fullres plans.
// Rule: the patch is the per-axis minimum of the tasks' patches (every task's batch then fits the
// memory its own plan allowed, since no axis grows), the topology is planned for that patch with
// nnU-Net's rules on an isotropic grid (each task is already resampled to its own target spacing,
// so the network sees voxels), capped at the fewest stages any task planned; the batch size is the
// smallest planned; widths, blocks, norm and architecture come from the first task's network.
import { planTopology, totalStride } from '../plan/topology.js';
import type { Configuration } from '../plan/planner.js';
import type { UNetSpec } from '../nn/index.js';

export interface CommonPlan {
  patch: number[];
  batchSize: number;
  /** The shared body (inputChannels = the most channels of any task; numClasses set per task). */
  body: UNetSpec;
}

export function commonPlan(
  configs: Configuration[],
  adjust: (s: UNetSpec) => UNetSpec = (s) => s,
): CommonPlan {
  if (!configs.length) throw new Error('no task to plan for');
  const dims = configs[0]!.network.dims;
  if (configs.some((c) => c.network.dims !== dims))
    throw new Error('every task needs a 3d_fullres configuration of the same dimensionality');
  const patchIn = configs[0]!.patch.map((_, d) => Math.min(...configs.map((c) => c.patch[d]!)));
  const stages = Math.min(...configs.map((c) => c.network.features.length));
  const topo = planTopology(
    patchIn,
    patchIn.map(() => 1),
    stages,
  );
  // planTopology rounds the patch to the total stride: never above any task's patch
  const total = totalStride(topo.strides, topo.patch.length);
  const patch = topo.patch.map((p, d) => (p > patchIn[d]! ? p - total[d]! : p));
  const t = configs[0]!.network;
  const n = topo.strides.length;
  const at = (a: number[], i: number) => a[Math.min(i, a.length - 1)]!;
  const body: UNetSpec = {
    ...t,
    inputChannels: Math.max(...configs.map((c) => c.network.inputChannels)),
    numClasses: 2,
    features: Array.from({ length: n }, (_, i) => at(t.features, i)),
    kernelSizes: topo.kernelSizes,
    strides: topo.strides,
    encoderBlocks: Array.from({ length: n }, (_, i) => at(t.encoderBlocks, i)),
    decoderConvs: Array.from({ length: n - 1 }, (_, i) => at(t.decoderConvs, i)),
  };
  return { patch, batchSize: Math.min(...configs.map((c) => c.batchSize)), body: adjust(body) };
}
