// Tensor basics: data in and out for every dtype, shape ops, elementwise ops and reductions
// checked against plain JavaScript arithmetic, and clean errors for bad shapes and dtypes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor,
  EngineError,
  tidy,
  zeros,
  arange,
  cat,
  stack,
  where,
  F,
  type DType,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/numeric.js';

test('fromArray/toArray round-trips every dtype bit-exactly', () => {
  const cases: [DType, ArrayBufferView][] = [
    ['float32', new Float32Array([1.5, -2.25, 3e-8, 1e30])],
    ['float64', new Float64Array([Math.PI, -1e-300, 1e300, 0])],
    ['float16', new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001])],
    ['bfloat16', new Uint16Array([0x3f80, 0xc040, 0x7f7f, 0x0001])],
    ['int64', new BigInt64Array([1n, -2n, 9007199254740993n, -(2n ** 62n)])],
    ['int32', new Int32Array([1, -2, 2 ** 31 - 1, -(2 ** 31)])],
    ['int16', new Int16Array([1, -2, 32767, -32768])],
    ['int8', new Int8Array([1, -2, 127, -128])],
    ['uint8', new Uint8Array([1, 2, 255, 0])],
  ];
  for (const [dtype, data] of cases) {
    const t = Tensor.fromArray(data, [2, 2], dtype);
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(t.toArray(), data, dtype);
    t.dispose();
  }
  const b = Tensor.fromArray(new Uint8Array([0, 7, 1, 0]), [4], 'bool');
  assert.equal(b.dtype, 'bool');
  assert.deepEqual([...b.toArray()], [0, 1, 1, 0], 'bool is normalised to 0/1');
});

test('float16/bfloat16 conversions match the IEEE bit patterns', () => {
  const f = Tensor.fromArray(new Float32Array([1, -2, 0.5]), [3]);
  assert.deepEqual([...f.to('float16').toArray()], [0x3c00, 0xc000, 0x3800]);
  assert.deepEqual([...f.to('bfloat16').toArray()], [0x3f80, 0xc000, 0x3f00]);
});

test('dataView aliases the tensor memory, toArray copies', () => {
  const t = zeros([3]);
  const view = t.dataView() as Float32Array;
  view[1] = 42;
  assert.deepEqual([...t.toArray()], [0, 42, 0]);
  const copy = t.toArray() as Float32Array;
  copy[0] = 7;
  assert.equal(t.toArray()[0], 0);
  assert.throws(() => t.expand(2, 3).dataView(), /contiguous/);
});

test('fromArray rejects a size mismatch with a clear error', () => {
  assert.throws(
    () => Tensor.fromArray(new Float32Array(5), [2, 3]),
    (e: Error) => {
      assert.ok(e instanceof EngineError);
      assert.match(e.message, /20 bytes given.*needs 24/);
      return true;
    },
  );
});

test('shape ops agree with index arithmetic', () => {
  tidy(() => {
    const x = arange(0, 24).reshape(2, 3, 4);
    assert.deepEqual(x.shape, [2, 3, 4]);
    const p = x.permute(2, 0, 1).contiguous();
    const xa = x.toArray() as Float32Array;
    const pa = p.toArray() as Float32Array;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 4; k++) assert.equal(pa[k * 6 + i * 3 + j], xa[i * 12 + j * 4 + k]);
    assert.deepEqual([...x.slice(2, 1, 3).contiguous().toArray()].slice(0, 2), [1, 2]);
    assert.deepEqual([...x.flip(2).toArray()].slice(0, 4), [3, 2, 1, 0]);
    assert.deepEqual(x.unsqueeze(0).squeeze(0).shape, [2, 3, 4]);
    assert.deepEqual(cat([x, x], 1).shape, [2, 6, 4]);
    assert.deepEqual(stack([x, x], 0).shape, [2, 2, 3, 4]);
    assert.deepEqual(x.narrow(1, 1, 2).shape, [2, 2, 4]);
    assert.equal(
      x.select(0, 1).sum().item(),
      [...xa.slice(12)].reduce((a, b) => a + b, 0),
    );
    const padded = F.pad(x, [1, 2], 'constant', -1);
    assert.deepEqual(padded.shape, [2, 3, 7]);
    assert.deepEqual([...padded.toArray()].slice(0, 7), [-1, 0, 1, 2, 3, -1, -1]);
  });
});

test('elementwise and reductions match JavaScript', () => {
  tidy(() => {
    const a = [0.5, -1.5, 2, 3.25, -0.75, 4];
    const b = [1, 2, -3, 0.5, 5, -2];
    const ta = Tensor.fromArray(new Float64Array(a), [2, 3]);
    const tb = Tensor.fromArray(new Float64Array(b), [2, 3]);
    assertClose(
      ta.add(tb),
      a.map((v, i) => v + b[i]!),
    );
    assertClose(
      ta.sub(tb, 2),
      a.map((v, i) => v - 2 * b[i]!),
    );
    assertClose(
      ta.mul(tb),
      a.map((v, i) => v * b[i]!),
    );
    assertClose(
      ta.div(tb),
      a.map((v, i) => v / b[i]!),
    );
    assertClose(
      ta.mul(3).add(1),
      a.map((v) => 3 * v + 1),
    );
    assertClose(ta.exp(), a.map(Math.exp));
    assertClose(
      ta.abs().sqrt(),
      a.map((v) => Math.sqrt(Math.abs(v))),
    );
    assertClose(
      ta.clamp(-1, 2),
      a.map((v) => Math.min(2, Math.max(-1, v))),
    );
    assertClose(
      ta.maximum(tb),
      a.map((v, i) => Math.max(v, b[i]!)),
    );
    assertClose(
      where(ta.gt(0), ta, tb),
      a.map((v, i) => (v > 0 ? v : b[i]!)),
    );
    assert.equal(
      ta.sum().item(),
      a.reduce((s, v) => s + v, 0),
    );
    assertClose(ta.sum(1), [a[0]! + a[1]! + a[2]!, a[3]! + a[4]! + a[5]!]);
    assertClose(
      ta.mean(0, true),
      [0, 1, 2].map((j) => (a[j]! + a[j + 3]!) / 2),
    );
    assertClose(ta.amax(1), [2, 4]);
    assert.deepEqual([...ta.argmax(1).toArray()], [2n, 2n]);
    const m = a.reduce((s, v) => s + v, 0) / 6;
    assertClose([ta.var().item()], [a.reduce((s, v) => s + (v - m) ** 2, 0) / 5]);
    assertClose(F.softmax(ta, 1).sum(1), [1, 1]);
    // integer scalars keep integer tensors integral
    assert.equal(arange(0, 4, 1, { dtype: 'int32' }).mul(2).dtype, 'int32');
  });
});

test('bad shapes and dtypes give EngineError naming the op and inputs, never an abort', () => {
  tidy(() => {
    const x = zeros([2, 3]);
    const y = zeros([4, 5]);
    const check = (fn: () => unknown, op: string, re: RegExp) =>
      assert.throws(fn, (e: Error) => {
        assert.ok(e instanceof EngineError, `${op}: ${e}`);
        assert.equal(e.op, op);
        assert.match(e.message, re);
        return true;
      });
    check(() => x.matmul(y), 'matmul', /matmul\(float32\[2,3\], float32\[4,5\]\)/);
    check(() => x.add(y), 'add', /float32\[2,3\], float32\[4,5\]/);
    check(() => x.reshape(7), 'reshape', /reshape/);
    const img = zeros([1, 3, 8, 8, 8]);
    const w = zeros([4, 2, 3, 3, 3]);
    check(() => F.conv(img, w), 'conv', /float32\[1,3,8,8,8\], float32\[4,2,3,3,3\]/);
    check(
      () => F.convTranspose(img, zeros([2, 4, 2, 2, 2]), null, { stride: 2 }),
      'conv_transpose',
      /channels/,
    );
    check(() => F.crossEntropy(zeros([2, 3, 4]), zeros([2, 4])), 'cross_entropy', /cross_entropy/);
    check(() => F.interpolate(img, [4, 4], 'linear'), 'interpolate', /spatial dims/);
    check(() => F.oneHot(zeros([3]), 2), 'one_hot', /one_hot/);
  });
  const t = zeros([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
});
