// Where the sliding window's windows go and how much each voxel of a window counts — plain
// TypeScript (no engine), shared by the libtorch sliding window and the ONNX Runtime one
// (src/deploy/), so both tile an image identically.

/** Rounds to the nearest integer, halves to even (numpy's np.round, which nnU-Net's tiling uses). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Window start positions along one axis: evenly spread, first at 0, last flush with the end. The
 * same starts as nnU-Net's compute_steps_for_sliding_window, ties included (29 voxels with a
 * 16-voxel patch: 0, 6, 13, not 0, 7, 13).
 */
export function windowStarts(size: number, patch: number, step: number): number[] {
  if (size <= patch) return [0];
  const n = Math.ceil((size - patch) / (patch * step)) + 1;
  const actual = (size - patch) / (n - 1);
  return Array.from({ length: n }, (_, i) => roundHalfEven(actual * i));
}

/** All window corners of a volume's spatial shape. */
export function windowBoxes(shape: number[], patch: number[], step: number): number[][] {
  let boxes: number[][] = [[]];
  shape.forEach((s, d) => {
    const starts = windowStarts(s, patch[d]!, step);
    boxes = boxes.flatMap((b) => starts.map((st) => [...b, st]));
  });
  return boxes;
}

/**
 * The Gaussian importance map of a patch as float32 (C order), the same values as
 * gaussianImportance (gaussian.ts): computed in float64, divided by its maximum, rounded to
 * float32, and clamped below at the smallest positive value (far corners underflow to 0).
 */
export function gaussianImportanceArray(patch: number[], sigmaScale = 1 / 8): Float32Array {
  const axes = patch.map((p) => {
    const sigma = p * sigmaScale;
    return Float64Array.from({ length: p }, (_, i) => {
      const c = i - (p - 1) / 2;
      return Math.exp((c * c) / (-2 * sigma * sigma));
    });
  });
  const n = patch.reduce((a, b) => a * b, 1);
  const g = new Float64Array(n).fill(1);
  let stride = n;
  axes.forEach((v, d) => {
    const p = patch[d]!;
    stride /= p;
    for (let i = 0; i < n; i++) g[i] *= v[Math.floor(i / stride) % p]!;
  });
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, g[i]!);
  const f = new Float32Array(n);
  let minPositive = Infinity;
  for (let i = 0; i < n; i++) {
    f[i] = g[i]! / max;
    if (f[i]! > 0) minPositive = Math.min(minPositive, f[i]!);
  }
  for (let i = 0; i < n; i++) if (f[i]! < minPositive) f[i] = minPositive;
  return f;
}
