// Network topology for a patch and spacing, by nnU-Net's rules: at each stage, pool the axes whose
// spacing is within 2× of the finest and whose feature map is still ≥ 2 × 4 voxels; kernels are 3
// along axes within 2× of the finest spacing and 1 along axes still much coarser (so thick slices
// are not mixed until pooling has made the in-plane voxels as coarse). The patch is then made
// divisible by the total stride along every axis.

export interface Topology {
  /** Stride of each stage's first conv (stage 0: all 1). */
  strides: number[][];
  kernelSizes: number[][];
  /** Patch size adjusted to a multiple of the total stride per axis. */
  patch: number[];
}

export const MIN_FEATURE_MAP = 4;

/** The U-Net's total downsampling per axis (the product of its strides): every patch axis must divide by it. */
export function totalStride(strides: readonly (readonly number[])[], dims: number): number[] {
  return Array.from({ length: dims }, (_, d) => strides.reduce((p, s) => p * s[d]!, 1));
}

export function planTopology(patchIn: number[], spacingIn: number[], maxStages: number): Topology {
  const nd = patchIn.length;
  let spacing = [...spacingIn];
  let size = [...patchIn];
  const strides: number[][] = [new Array<number>(nd).fill(1)];
  const kernels: number[][] = [];
  // kernel of stage 0
  const minSp = () => Math.min(...spacing);
  kernels.push(spacing.map((s) => (s <= 2 * minSp() ? 3 : 1)));
  while (strides.length < maxStages) {
    const m = minSp();
    const pool = size.map((v, d) => spacing[d]! <= 2 * m && v >= 2 * MIN_FEATURE_MAP);
    if (!pool.some(Boolean)) break;
    const stride = pool.map((p) => (p ? 2 : 1));
    strides.push(stride);
    size = size.map((v, d) => (pool[d] ? Math.floor(v / 2) : v));
    spacing = spacing.map((s, d) => (pool[d] ? s * 2 : s));
    const m2 = Math.min(...spacing);
    kernels.push(spacing.map((s) => (s <= 2 * m2 ? 3 : 1)));
  }
  const total = totalStride(strides, nd);
  const patch = patchIn.map((p, d) => Math.max(total[d]!, Math.round(p / total[d]!) * total[d]!));
  return { strides, kernelSizes: kernels, patch };
}
