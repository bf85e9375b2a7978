// Safetensors checkpoints: exact round trip, clean errors for damaged files, and a medseg state
// dict loading into the same network written in PyTorch (bench/pytorch_unet.py) with equal outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tensor, tidy, manualSeed, randn, noGrad, arange } from '../../src/engine/index.js';
import {
  UNet,
  defaultPlainSpec,
  saveSafetensors,
  loadSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  CheckpointError,
} from '../../src/nn/index.js';
import { assertClose, ref } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'medseg-ckpt-'));

test('state dicts round-trip through safetensors bit-exactly, with metadata', async () => {
  manualSeed(5);
  const net = new UNet({ ...defaultPlainSpec([16, 16, 16], 2, 3), features: [4, 8, 16] });
  const file = path.join(tmp(), 'model.safetensors');
  await saveSafetensors(file, net.stateDict(), { epoch: '3' });
  const other = new UNet({ ...defaultPlainSpec([16, 16, 16], 2, 3), features: [4, 8, 16] });
  const { tensors, metadata } = await loadSafetensors(file);
  assert.equal(metadata.epoch, '3');
  other.loadStateDict(tensors);
  for (const [name, t] of net.stateDict()) {
    assert.deepEqual(other.stateDict().get(name)!.toArray(), t.toArray(), name);
  }
  // every dtype survives
  const mixed = new Map<string, Tensor>([
    ['a', arange(0, 6, 1, { dtype: 'int64' }).reshape(2, 3)],
    ['b', randn([3]).to('bfloat16')],
    ['c', randn([2]).to('float16')],
    ['d', arange(0, 4).gt(1)],
    ['e', arange(0, 4, 1, { dtype: 'uint8' })],
  ]);
  const back = decodeSafetensors(encodeSafetensors(mixed)).tensors;
  for (const [k, t] of mixed) {
    assert.equal(back.get(k)!.dtype, t.dtype);
    assert.deepEqual(back.get(k)!.toArray(), t.toArray());
  }
  net.dispose();
  other.dispose();
});

test('damaged checkpoints give one clear error naming the file; nothing is loaded half', async () => {
  const dir = tmp();
  const net = new UNet({ ...defaultPlainSpec([16, 16, 16], 1, 2), features: [4, 8, 16] });
  const file = path.join(dir, 'm.safetensors');
  await saveSafetensors(file, net.stateDict());
  const bytes = readFileSync(file);
  const cases: [string, Buffer, RegExp][] = [
    ['truncated', bytes.subarray(0, bytes.length - 100), /outside the file|truncated/],
    ['tiny', bytes.subarray(0, 5), /too short/],
    [
      'garbage header',
      Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(bytes.length - 8, 0x41)]),
      /not valid JSON/,
    ],
    [
      'huge header length',
      Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), bytes.subarray(8)]),
      /header length/,
    ],
  ];
  for (const [what, data, re] of cases) {
    const f = path.join(dir, `${what}.safetensors`);
    writeFileSync(f, data);
    await assert.rejects(loadSafetensors(f), (e: Error) => {
      assert.ok(e instanceof CheckpointError, what);
      assert.ok(e.message.includes(f), `${what}: message names the file`);
      assert.match(e.message, re, what);
      return true;
    });
  }
  await assert.rejects(loadSafetensors(path.join(dir, 'missing.safetensors')), /cannot read/);
  // a checkpoint of another network: refused before any value is copied
  const before = net.stateDict().get('decoder.seg_layers.0.weight')!.toArray();
  const other = new UNet({ ...defaultPlainSpec([16, 16, 16], 1, 2), features: [4, 8, 32] });
  assert.throws(() => net.loadStateDict(other.stateDict()), /shape/);
  assert.deepEqual(net.stateDict().get('decoder.seg_layers.0.weight')!.toArray(), before);
  net.dispose();
  other.dispose();
});

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

test(
  'a medseg checkpoint loads into the PyTorch network (strict) and gives the same output',
  { skip },
  async () => {
    manualSeed(9);
    const net = new UNet({ ...defaultPlainSpec([32, 32, 32], 2, 3) });
    const file = path.join(tmp(), 'unet.safetensors');
    await saveSafetensors(file, net.stateDict());
    const x = randn([1, 2, 32, 32, 32]);
    const mine = tidy(() => noGrad(() => net.eval().forwardAll(x)));
    const bench = path.resolve('bench');
    const r = torchRef(
      `
import sys; sys.path.insert(0, ${JSON.stringify(bench)})
from pytorch_unet import PlainConvUNet, read_safetensors
net = PlainConvUNet([32, 32, 32], 2, 3).eval()
sd = read_safetensors(${JSON.stringify(file)})
net.load_state_dict(sd, strict=True)
with torch.no_grad():
    outs = net(T['x'].float())
out['o0'] = outs[0]; out['o1'] = outs[1]
out['n'] = torch.tensor([len(sd)])
`,
      { x: ref(x) },
    );
    assert.equal(r.n!.data[0], net.stateDict().size);
    assertClose(mine[0]!, r.o0!.data, { rtol: 1e-3, atol: 1e-4, what: 'full-resolution logits' });
    assertClose(mine[1]!, r.o1!.data, { rtol: 1e-3, atol: 1e-4, what: 'deep-supervision logits' });
    net.dispose();
  },
);
