// MeshNet (Fedorov et al., 2017; brainchop's models): a chain of 3D convolutions with growing then
// shrinking dilation, 'same' padding, an activation after each, and a 1×1×1 convolution to the
// classes. No down-sampling: the whole volume in, one logit per class and voxel out.
import { F, type Tensor } from '../engine/index.js';
import { Conv } from './layers.js';
import { Module, ModuleList, replace } from './module.js';

export type MeshNetActivation = 'relu' | 'elu' | 'gelu' | 'linear';

export interface MeshNetLayer {
  outChannels: number;
  kernel: number[];
  dilation: number[];
  activation: MeshNetActivation;
}

export interface MeshNetSpec {
  architecture: 'meshnet';
  dims: 3;
  inputChannels: number;
  numClasses: number;
  /** Every convolution in order; the last one gives numClasses channels. */
  layers: MeshNetLayer[];
}

export function activate(x: Tensor, a: MeshNetActivation): Tensor {
  switch (a) {
    case 'relu':
      return F.relu(x);
    case 'elu':
      return F.elu(x);
    case 'gelu':
      return F.gelu(x);
    case 'linear':
      return x;
  }
}

export class MeshNet extends Module {
  readonly convs: ModuleList<Conv>;
  constructor(readonly spec: MeshNetSpec) {
    super();
    const last = spec.layers[spec.layers.length - 1];
    if (!last || last.outChannels !== spec.numClasses)
      throw new Error(`MeshNet: the last layer must give ${spec.numClasses} channels`);
    let inCh = spec.inputChannels;
    const convs = spec.layers.map((l) => {
      // 'same' padding for odd kernels: dilation · (k − 1) / 2 on each side
      const c = new Conv(inCh, l.outChannels, {
        dims: 3,
        kernel: l.kernel,
        dilation: l.dilation,
        padding: l.kernel.map((k, d) => (l.dilation[d]! * (k - 1)) / 2),
      });
      inCh = l.outChannels;
      return c;
    });
    for (const l of spec.layers)
      if (l.kernel.some((k) => k % 2 === 0))
        throw new Error('MeshNet: even kernels have no symmetric same padding');
    this.convs = this.child('convs', new ModuleList(convs));
  }

  forward(x: Tensor): Tensor {
    let y = x;
    this.convs.items.forEach((c, i) => {
      y = replace(y, c.forward(y), x);
      const a = this.spec.layers[i]!.activation;
      if (a !== 'linear') y = replace(y, activate(y, a), x);
    });
    return y;
  }
}
