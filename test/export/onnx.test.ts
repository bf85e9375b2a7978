// ONNX export: the hand-written protobuf parses back; onnxruntime-node's output equals libtorch's
// for tiny networks of every kind (plain / residual / squeeze-excitation encoders, 2D and 3D,
// instance / batch / group norm); the depth-to-space form of the transposed convolutions (for
// runtimes without ConvTranspose) equals the ConvTranspose form; bad files get one clear line.
//
// Measured (onnxruntime-node 1.30 vs libtorch, float32, this machine): max |Δlogit| ≈ 5e-6 – 1e-5
// on logits of magnitude ~1; the test allows 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { manualSeed, noGrad, randn, tidy } from '../../src/engine/index.js';
import { UNet, type UNetSpec } from '../../src/nn/index.js';
import { encodeModel, summarizeModel, ONNX_OPSET } from '../../src/export/onnx.js';
import { readFields, ProtoError } from '../../src/export/protobuf.js';
import { unetGraph } from '../../src/export/unetGraph.js';
import { OnnxNetwork } from '../../src/deploy/onnxNetwork.js';

const TOLERANCE = 1e-4;
// onnxruntime-node is an optional dependency: without it the runtime tests skip
const ort = await import('onnxruntime-node').catch(() => null);
const noOrt = ort ? false : 'onnxruntime-node is not installed';

function spec(over: Partial<UNetSpec>, dims: 2 | 3 = 3): UNetSpec {
  const k = new Array<number>(dims).fill(3);
  const s2 = new Array<number>(dims).fill(2);
  return {
    architecture: 'plain',
    dims,
    inputChannels: 2,
    numClasses: 3,
    features: [4, 8, 16],
    kernelSizes: [k, k, k],
    strides: [k.map(() => 1), s2, dims === 3 ? [1, 2, 2] : s2],
    encoderBlocks: [1, 2, 2],
    decoderConvs: [1, 2],
    deepSupervision: false,
    ...over,
  };
}

/** Max |ORT − libtorch| of one network on one random batch of two windows. */
async function parity(net: UNet, patch: number[], mode: 'native' | 'depthToSpace', seed = 0) {
  const graph = unetGraph(net, { patch, convTranspose: mode });
  const bytes = encodeModel(graph);
  const shape = [2, net.spec.inputChannels, ...patch];
  manualSeed(seed);
  const x = randn(shape);
  const ref = tidy(() => noGrad(() => net.forward(x)).toArray() as Float32Array);
  const session = await ort!.InferenceSession.create(bytes);
  const out = await session.run({ image: new ort!.Tensor('float32', x.toArray() as Float32Array, shape) });
  await session.release();
  x.dispose();
  const y = out.logits!.data as Float32Array;
  assert.equal(y.length, ref.length);
  let max = 0;
  for (let i = 0; i < y.length; i++) max = Math.max(max, Math.abs(y[i]! - ref[i]!));
  return { max, y, ops: new Set(graph.nodes.map((n) => n.op)), bytes };
}

test('the protobuf writer: a model parses back with its opset, IR version and metadata; truncation is caught', () => {
  manualSeed(0);
  const net = new UNet(spec({})).eval();
  const graphSpec = unetGraph(net, { patch: [4, 8, 8] });
  const bytes = encodeModel(graphSpec, { metadata: { fold: '3' } });
  // initializers carry the state dict's names; the lower-resolution seg layers (deep supervision) are left out
  const used = [...net.stateDict().keys()].filter((k) => !k.startsWith('decoder.seg_layers.0.'));
  assert.deepEqual(graphSpec.initializers.map((i) => i.name).sort(), used.sort());
  const s = summarizeModel(bytes);
  assert.equal(s.opset, ONNX_OPSET);
  assert.equal(s.irVersion, 8);
  assert.equal(s.producer, 'medseg');
  assert.deepEqual(s.metadata, { fold: '3' });
  // the graph (field 7) is one length-delimited field holding nodes, initializers, inputs, outputs
  const graph = readFields(bytes).find((f) => f.field === 7)!.bytes!;
  const counts = new Map<number, number>();
  for (const f of readFields(graph)) counts.set(f.field, (counts.get(f.field) ?? 0) + 1);
  assert.equal(counts.get(5), used.length, 'one initializer per weight');
  assert.equal(counts.get(11), 1);
  assert.equal(counts.get(12), 1);
  for (const cut of [bytes.length - 1, bytes.length >> 1, 10])
    assert.throws(() => summarizeModel(bytes.subarray(0, cut)), ProtoError, `cut at ${cut}`);
  assert.throws(() => summarizeModel(new TextEncoder().encode('{"not": "onnx"}')), ProtoError);
  net.dispose();
});

test(
  'ONNX Runtime = libtorch: plain, residual, squeeze-excitation; 3D and 2D; instance, batch, group norm',
  { skip: noOrt },
  async (t) => {
    manualSeed(1);
    const kinds: [string, UNetSpec, number[]][] = [
      ['plain 3D', spec({}), [8, 12, 16]],
      ['residual 3D', spec({ architecture: 'residual' }), [8, 12, 16]],
      ['residual + SE 3D', spec({ architecture: 'residual', squeezeExcitation: true }), [4, 8, 8]],
      ['plain 2D', spec({}, 2), [16, 24]],
      ['residual + SE 2D', spec({ architecture: 'residual', squeezeExcitation: true }, 2), [16, 16]],
      ['plain 3D batch norm', spec({ norm: 'batch' }), [4, 8, 8]],
      ['plain 3D group norm', spec({ norm: 'group', features: [8, 16, 16] }), [4, 8, 8]],
      ['plain 3D no norm', spec({ norm: 'none' }), [4, 8, 8]],
    ];
    for (const [what, s, patch] of kinds) {
      const net = new UNet(s).eval();
      if (s.norm === 'batch') {
        // running statistics other than (0, 1), so that eval-mode batch norm does something
        noGrad(() => {
          for (const [k, t] of net.stateDict())
            if (k.endsWith('running_mean')) t.copy_(tidy(() => randn([...t.shape]).mul(0.1)));
            else if (k.endsWith('running_var'))
              t.copy_(
                tidy(() =>
                  randn([...t.shape])
                    .abs()
                    .add(0.5),
                ),
              );
        });
      }
      const { max } = await parity(net, patch, 'native');
      assert.ok(max < TOLERANCE, `${what}: max |ORT − libtorch| = ${max}`);
      t.diagnostic(`${what}: max |ORT − libtorch| = ${max.toExponential(2)}`);
      net.dispose();
    }
  },
);

test(
  'transposed convolutions as conv + depth-to-space: no ConvTranspose node, the same logits',
  { skip: noOrt },
  async (t) => {
    manualSeed(2);
    for (const [what, s, patch] of [
      ['3D, strides 2 and (1, 2, 2)', spec({}), [8, 12, 16]],
      ['2D residual', spec({ architecture: 'residual' }, 2), [16, 24]],
    ] as const) {
      const net = new UNet(s).eval();
      const a = await parity(net, [...patch], 'native');
      const b = await parity(net, [...patch], 'depthToSpace');
      assert.ok(a.ops.has('ConvTranspose'));
      assert.ok(!b.ops.has('ConvTranspose'), `${what}: ${[...b.ops].join(', ')}`);
      assert.ok(b.max < TOLERANCE, `${what}: depth-to-space vs libtorch ${b.max}`);
      let d = 0;
      for (let i = 0; i < a.y.length; i++) d = Math.max(d, Math.abs(a.y[i]! - b.y[i]!));
      assert.ok(d < 1e-5, `${what}: depth-to-space vs ConvTranspose ${d}`);
      t.diagnostic(
        `${what}: depth-to-space vs ConvTranspose ${d.toExponential(2)}, vs libtorch ${b.max.toExponential(2)}`,
      );
      net.dispose();
    }
  },
);

test(
  'bad ONNX files: truncated, not ONNX, another channel count → one line naming the file',
  { skip: noOrt },
  async () => {
    manualSeed(3);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-onnx-bad-'));
    const net = new UNet(spec({})).eval();
    const patch = [4, 8, 8];
    const bytes = encodeModel(unetGraph(net, { patch }));
    net.dispose();
    const o = { inputChannels: 2, numClasses: 3, patch };
    const good = path.join(dir, 'good.onnx');
    writeFileSync(good, bytes);
    const loaded = await OnnxNetwork.load(good, o);
    const logits = await loaded.run(new Float32Array(2 * 4 * 8 * 8), 1);
    assert.equal(logits.length, 3 * 4 * 8 * 8);
    await loaded.dispose();
    const truncated = path.join(dir, 'truncated.onnx');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const oneLine = (re: RegExp) => (e: unknown) => {
      const m = (e as Error).message;
      assert.ok(!m.includes('\n'), m);
      assert.match(m, re);
      return true;
    };
    await assert.rejects(
      OnnxNetwork.load(truncated, o),
      oneLine(/truncated\.onnx: not a complete ONNX model/),
    );
    const text = path.join(dir, 'text.onnx');
    writeFileSync(text, 'hello, this is not a model\n');
    await assert.rejects(OnnxNetwork.load(text, o), oneLine(/text\.onnx: not a complete ONNX model/));
    await assert.rejects(
      OnnxNetwork.load(good, { ...o, inputChannels: 1 }),
      oneLine(
        /good\.onnx: the network takes \[2, 4, 8, 8\].*export\.json says \[1, 4, 8, 8\].*another channel count/,
      ),
    );
    await assert.rejects(
      OnnxNetwork.load(good, { ...o, numClasses: 4 }),
      oneLine(/gives 3 classes, export\.json says 4/),
    );
  },
);
