// A MeshNet (src/nn/meshnet.ts) as an ONNX graph, straight from its weights as arrays (no engine:
// importing a TensorFlow.js model needs no libtorch). GELU is written with Erf (opset 17 has no
// Gelu): x · ½ · (1 + erf(x / √2)), the exact form Keras and TensorFlow.js use.
import type { MeshNetSpec } from '../nn/meshnet.js';
import { INPUT_NAME, OUTPUT_NAME } from './names.js';
import type { OnnxGraph, OnnxInitializer, OnnxNode } from './onnx.js';

export function meshnetGraph(
  spec: MeshNetSpec,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  patch: number[],
): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const scalar = (name: string, v: number) => {
    initializers.push({ name, dims: [], data: Float32Array.of(v) });
    return name;
  };
  let x = INPUT_NAME;
  let gelu = false;
  spec.layers.forEach((l, i) => {
    const w = weights.get(`convs.${i}.weight`);
    const b = weights.get(`convs.${i}.bias`);
    if (!w || !b) throw new Error(`MeshNet export: layer ${i} has no weights`);
    initializers.push({ name: `convs.${i}.weight`, dims: w.shape, data: w.data });
    initializers.push({ name: `convs.${i}.bias`, dims: b.shape, data: b.data });
    const pads = l.kernel.map((k, d) => (l.dilation[d]! * (k - 1)) / 2);
    const last = i === spec.layers.length - 1 && l.activation === 'linear';
    const y = last ? OUTPUT_NAME : `conv_${i}`;
    nodes.push({
      op: 'Conv',
      inputs: [x, `convs.${i}.weight`, `convs.${i}.bias`],
      outputs: [y],
      name: `conv_${i}`,
      attributes: {
        kernel_shape: l.kernel,
        dilations: l.dilation,
        pads: [...pads, ...pads],
        strides: l.kernel.map(() => 1),
        group: 1,
      },
    });
    x = y;
    if (l.activation === 'linear') return;
    const out = i === spec.layers.length - 1 ? OUTPUT_NAME : `act_${i}`;
    if (l.activation === 'relu') nodes.push({ op: 'Relu', inputs: [x], outputs: [out], name: `relu_${i}` });
    else if (l.activation === 'elu')
      nodes.push({
        op: 'Elu',
        inputs: [x],
        outputs: [out],
        name: `elu_${i}`,
        attributes: { alpha: { float: 1 } },
      });
    else {
      if (!gelu) {
        scalar('sqrt2', Math.SQRT2);
        scalar('one', 1);
        scalar('half', 0.5);
        gelu = true;
      }
      const p = `gelu_${i}`;
      nodes.push({ op: 'Div', inputs: [x, 'sqrt2'], outputs: [`${p}_div`], name: `${p}_div` });
      nodes.push({ op: 'Erf', inputs: [`${p}_div`], outputs: [`${p}_erf`], name: `${p}_erf` });
      nodes.push({ op: 'Add', inputs: [`${p}_erf`, 'one'], outputs: [`${p}_add`], name: `${p}_add` });
      nodes.push({ op: 'Mul', inputs: [x, `${p}_add`], outputs: [`${p}_mul`], name: `${p}_mul` });
      nodes.push({ op: 'Mul', inputs: [`${p}_mul`, 'half'], outputs: [out], name: `${p}_half` });
    }
    x = out;
  });
  return {
    name: 'medseg_meshnet',
    nodes,
    initializers,
    inputs: [{ name: INPUT_NAME, shape: ['N', spec.inputChannels, ...patch] }],
    outputs: [{ name: OUTPUT_NAME, shape: ['N', spec.numClasses, ...patch] }],
  };
}
