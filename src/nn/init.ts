// Weight initialisation (as torch.nn.init), drawing from libtorch's seeded generator.
import { noGrad, type Tensor } from '../engine/index.js';

/** fan_in of a conv/linear weight [out, in, k...] (or of a transposed conv's [in, out, k...]: dim 1). */
export function fanIn(w: Tensor): number {
  const receptive = w.shape.slice(2).reduce((a, b) => a * b, 1);
  return w.shape[1]! * receptive;
}

/** He/Kaiming normal for leaky ReLU with slope a, fan-in mode (nnU-Net's InitWeights_He(1e-2)). */
export function kaimingNormal_(w: Tensor, a = 0, fan = fanIn(w)): Tensor {
  const gain = Math.sqrt(2 / (1 + a * a));
  noGrad(() => w.normal_(0, gain / Math.sqrt(fan)));
  return w;
}

/** PyTorch's default conv/linear init: kaiming_uniform with a = sqrt(5), i.e. U(±1/sqrt(fan_in)). */
export function defaultUniform_(t: Tensor, fan: number): Tensor {
  const bound = 1 / Math.sqrt(Math.max(1, fan));
  noGrad(() => t.uniform_(-bound, bound));
  return t;
}

export function zeros_(t: Tensor): Tensor {
  noGrad(() => t.zero_());
  return t;
}

export function ones_(t: Tensor): Tensor {
  noGrad(() => t.fill_(1));
  return t;
}
