// Runs a PyTorch snippet with Debian's torch (/usr/bin/python3) as an independent reference.
// Inputs go over as raw little-endian float64/int64 files; the snippet reads the dict `T` of tensors
// and fills the dict `out`; results come back as float64 arrays with their shapes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PYTHON = process.env.MEDSEG_REF_PYTHON ?? '/usr/bin/python3';

let available: boolean | undefined;
/** True when the reference Python can import torch. */
export function torchAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

export interface RefArray {
  data: Float64Array | BigInt64Array;
  shape: number[];
}

export interface RefResult {
  data: Float64Array;
  shape: number[];
}

const PRELUDE = `
import json, sys, numpy as np, torch
import torch.nn.functional as F
torch.set_num_threads(1)
d = sys.argv[1]
spec = json.load(open(d + '/in.json'))
T = {}
for k, v in spec.items():
    dt = np.int64 if v['int'] else np.float64
    T[k] = torch.from_numpy(np.fromfile(d + '/' + k + '.bin', dtype=dt).reshape(v['shape']).copy())
out = {}
`;
const EPILOGUE = `
meta = {}
for k, v in out.items():
    a = v.detach().to(torch.float64).contiguous().numpy()
    a.tofile(d + '/out_' + k + '.bin')
    meta[k] = list(a.shape)
json.dump(meta, open(d + '/out.json', 'w'))
`;

export function torchRef(code: string, inputs: Record<string, RefArray>): Record<string, RefResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-ref-'));
  try {
    const spec: Record<string, { shape: number[]; int: boolean }> = {};
    for (const [k, v] of Object.entries(inputs)) {
      writeFileSync(
        path.join(dir, `${k}.bin`),
        new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength),
      );
      spec[k] = { shape: v.shape, int: v.data instanceof BigInt64Array };
    }
    writeFileSync(path.join(dir, 'in.json'), JSON.stringify(spec));
    writeFileSync(path.join(dir, 'ref.py'), PRELUDE + code + EPILOGUE);
    execFileSync(PYTHON, [path.join(dir, 'ref.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    const meta = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as Record<string, number[]>;
    const res: Record<string, RefResult> = {};
    for (const [k, shape] of Object.entries(meta)) {
      const b = readFileSync(path.join(dir, `out_${k}.bin`));
      res[k] = { data: new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), shape };
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
