// The Gaussian importance map of sliding-window inference: centre voxels of a window count more
// than its borders, where the network sees less context (nnU-Net: sigma = patch / 8).
import { tidy, arange, maskedSelect, type Tensor } from '../engine/index.js';

export function gaussianImportance(patch: number[], sigmaScale = 1 / 8): Tensor {
  return tidy(() => {
    let g: Tensor | null = null;
    patch.forEach((p, axis) => {
      const c = arange(0, p, 1, { dtype: 'float64' }).sub((p - 1) / 2);
      const sigma = p * sigmaScale;
      const v = c
        .mul(c)
        .div(-2 * sigma * sigma)
        .exp();
      const shape = patch.map((_, i) => (i === axis ? p : 1));
      const r = v.reshape(...shape);
      g = g ? g.mul(r) : r;
    });
    const m = g!.div(g!.amax());
    // Far corners of large patches underflow to 0; a zero weight would divide by zero later.
    const f = m.to('float32');
    const minPositive = maskedSelect(f, f.gt(0)).amin().item();
    return f.clamp(minPositive);
  });
}
