// safetensors against a reader and a writer written here (Python + numpy) from the format's
// specification, not from our code: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// starting with '{' and padded only with spaces, each tensor {dtype, shape, data_offsets} with
// offsets relative to the byte buffer after the header, END exclusive, the buffer fully covered by
// the tensors without holes or overlaps, little-endian values, duplicate keys refused,
// __metadata__ a string→string map. (Debian has no python3-safetensors, so the spec stands in for
// the reference reader.) Our writer also promises 8-byte alignment of the data: checked too.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Tensor, arange, tidy } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/nn/index.js';
import { seededValues } from '../helpers/numeric.js';

const PYTHON = '/usr/bin/python3';
const skip =
  spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0
    ? false
    : `${PYTHON} with numpy is not available`;

const SPEC = `
import json, sys
import numpy as np

DT = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'BF16': '<u2', 'I64': '<i8', 'I32': '<i4',
      'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}

def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError('duplicate keys in the header')
    return dict(pairs)

def read(path):
    raw = open(path, 'rb').read()
    assert len(raw) >= 8, 'shorter than the 8-byte length'
    n = int.from_bytes(raw[:8], 'little')
    assert 8 + n <= len(raw), 'header length beyond the file'
    text = raw[8:8 + n].decode('utf-8')
    assert text.startswith('{'), 'header does not start with {'
    stripped = text.rstrip(' ')
    assert stripped.endswith('}'), 'header padded with something other than spaces'
    header = json.loads(stripped, object_pairs_hook=no_duplicates)
    buf = raw[8 + n:]
    meta = header.pop('__metadata__', {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), 'metadata not str->str'
    spans, out = [], {}
    for name, e in header.items():
        assert set(e) == {'dtype', 'shape', 'data_offsets'}, name + ': unexpected fields ' + str(sorted(e))
        dt = np.dtype(DT[e['dtype']])
        shape = e['shape']
        assert all(isinstance(s, int) and s >= 0 for s in shape), name + ': bad shape'
        a, b = e['data_offsets']
        assert 0 <= a <= b <= len(buf), name + ': offsets outside the buffer'
        assert b - a == int(np.prod(shape, dtype=np.int64)) * dt.itemsize, name + ': size mismatch'
        spans.append((a, b))
        v = np.frombuffer(buf[a:b], dtype=dt).reshape(shape)
        if e['dtype'] == 'BF16':
            v = (v.astype(np.uint32) << 16).view(np.float32)
        out[name] = {'dtype': e['dtype'], 'shape': shape,
                     'values': [float(x) for x in v.astype(np.float64).ravel()]}
    spans.sort()
    end = 0
    for a, b in spans:
        assert a == end, 'hole or overlap in the byte buffer at %d' % end
        end = b
    assert end == len(buf), 'the byte buffer has %d bytes no tensor covers' % (len(buf) - end)
    return {'n': n, 'metadata': meta, 'tensors': out}

def write(path):
    # deliberately unlike ours: unsorted names, offsets in another order than the names, an odd
    # header length (data unaligned), a 0-d scalar, an empty tensor, F16/BF16, metadata
    rng = np.random.default_rng(3)
    items = [
        ('z.weight', 'F32', rng.standard_normal((3, 2, 2)).astype('<f4')),
        ('a.bias', 'F64', rng.standard_normal(5).astype('<f8')),
        ('m.half', 'F16', rng.standard_normal((2, 3)).astype('<f2')),
        ('m.bf16', 'BF16', (rng.standard_normal(4).astype('<f4').view('<u4') >> 16).astype('<u2')),
        ('count', 'I64', np.array(7, dtype='<i8')),
        ('empty', 'F32', np.zeros((0, 4), dtype='<f4')),
        ('mask', 'BOOL', np.array([True, False, True])),
        ('idx', 'I32', np.arange(-3, 3, dtype='<i4')),
        ('u', 'U8', np.arange(250, 256, dtype='u1')),
    ]
    header, chunks, off = {'__metadata__': {'format': 'pt', 'epoch': '12'}}, [], 0
    for name, code, arr in reversed(items):
        b = arr.tobytes()
        header[name] = {'dtype': code, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    text = json.dumps(header)
    if (8 + len(text)) % 8 == 0:
        text += ' '
    raw = len(text).to_bytes(8, 'little') + text.encode() + b''.join(chunks)
    open(path, 'wb').write(raw)
    return read(path)

print(json.dumps({'read': read, 'write': write}[sys.argv[1]](sys.argv[2])))
`;

interface SpecTensor {
  dtype: string;
  shape: number[];
  values: number[];
}
interface SpecFile {
  n: number;
  metadata: Record<string, string>;
  tensors: Record<string, SpecTensor>;
}

function spec(t: { after: (fn: () => void) => void }, command: 'read' | 'write', file: string): SpecFile {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'spec.py');
  writeFileSync(script, SPEC);
  return JSON.parse(execFileSync(PYTHON, [script, command, file], { encoding: 'utf8' })) as SpecFile;
}

function values(t: Tensor): number[] {
  return tidy(() => Array.from(t.to('float64').toArray() as Float64Array));
}

test('files we write satisfy the specification and hold our values, every dtype', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (shape: number[], seed: number) =>
    Tensor.fromArray(
      Float32Array.from(
        seededValues(
          shape.reduce((a, b) => a * b, 1),
          seed,
        ),
      ),
      shape,
    );
  const tensors = new Map<string, Tensor>([
    ['encoder.0.conv.weight', f([4, 2, 3, 3, 3], 1)],
    ['encoder.0.conv.bias', f([4], 2).to('float64')],
    ['half', f([3, 5], 3).to('float16')],
    ['bf', f([7], 4).to('bfloat16')],
    ['step', arange(0, 6, 1, { dtype: 'int64' }).reshape(2, 3)],
    ['i32', arange(-2, 3, 1, { dtype: 'int32' })],
    ['i16', arange(-2, 3, 1, { dtype: 'int16' })],
    ['i8', arange(-2, 3, 1, { dtype: 'int8' })],
    ['u8', arange(0, 3, 1, { dtype: 'uint8' })],
    ['flag', arange(0, 4).gt(1)],
    ['empty', Tensor.fromArray(new Float32Array(0), [0, 3])],
  ]);
  const file = path.join(dir, 'ours.safetensors');
  await saveSafetensors(file, tensors, { epoch: '3', note: 'ünïcode' });
  const r = spec(t, 'read', file);
  assert.equal((8 + r.n) % 8, 0, 'data starts 8-byte aligned');
  assert.deepEqual(r.metadata, { epoch: '3', note: 'ünïcode' });
  assert.deepEqual(Object.keys(r.tensors).sort(), [...tensors.keys()].sort());
  const codes: Record<string, string> = {
    float32: 'F32',
    float64: 'F64',
    float16: 'F16',
    bfloat16: 'BF16',
    int64: 'I64',
    int32: 'I32',
    int16: 'I16',
    int8: 'I8',
    uint8: 'U8',
    bool: 'BOOL',
  };
  for (const [name, tensor] of tensors) {
    const e = r.tensors[name]!;
    assert.equal(e.dtype, codes[tensor.dtype], name);
    assert.deepEqual(e.shape, [...tensor.shape], name);
    assert.deepEqual(e.values, values(tensor), name);
  }
  for (const v of tensors.values()) v.dispose();
});

test(
  'files written from the specification (unsorted, unaligned, 0-d, empty) read with the same values',
  { skip },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-st-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'theirs.safetensors');
    const r = spec(t, 'write', file);
    assert.notEqual((8 + r.n) % 8, 0, 'the reference file is unaligned, as the format allows');
    const ours = await loadSafetensors(file);
    assert.deepEqual(ours.metadata, { format: 'pt', epoch: '12' });
    assert.deepEqual([...ours.tensors.keys()].sort(), Object.keys(r.tensors).sort());
    const dtypes: Record<string, string> = {
      F32: 'float32',
      F64: 'float64',
      F16: 'float16',
      BF16: 'bfloat16',
      I64: 'int64',
      I32: 'int32',
      U8: 'uint8',
      BOOL: 'bool',
    };
    for (const [name, e] of Object.entries(r.tensors)) {
      const got = ours.tensors.get(name)!;
      assert.equal(got.dtype, dtypes[e.dtype], name);
      assert.deepEqual([...got.shape], e.shape, name);
      assert.deepEqual(values(got), e.values, name);
      got.dispose();
    }
  },
);
