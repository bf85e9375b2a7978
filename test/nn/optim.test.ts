// SGD (momentum, Nesterov, weight decay) and AdamW against torch.optim, poly LR, gradient
// clipping, and optimizer state save/load continuing exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, keep } from '../../src/engine/index.js';
import { SGD, AdamW, polyLR, clipGradNorm, type Optimizer } from '../../src/optim/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/index.js';
import { assertClose, seededValues } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

/** Minimises Σ (p − target)² · scale for 5 steps; returns the parameter after each step. */
function run(make: (p: Tensor[]) => Optimizer, steps = 5, p0 = seededValues(6, 1)): Float64Array[] {
  const p = keep(Tensor.fromArray(Float64Array.from(p0), [2, 3]).requiresGrad_());
  const target = keep(Tensor.fromArray(seededValues(6, 2), [2, 3]));
  const opt = make([p]);
  const out: Float64Array[] = [];
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      opt.zeroGrad();
      p.sub(target).pow(2).mul(3).sum().backward();
      opt.step();
    });
    out.push(p.toArray() as Float64Array);
  }
  opt.dispose();
  return out;
}

const REF = (optimizer: string) => `
p = T['p0'].clone().reshape(2, 3).requires_grad_()
target = T['target'].reshape(2, 3)
opt = ${optimizer}
for i in range(5):
    opt.zero_grad()
    ((p - target) ** 2 * 3).sum().backward()
    opt.step()
    out['s%d' % i] = p.detach().clone()
`;

test('SGD with Nesterov momentum and weight decay follows torch.optim.SGD', { skip }, () => {
  const mine = run((p) => new SGD(p, { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 }));
  const r = torchRef(REF('torch.optim.SGD([p], lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)'), {
    p0: { data: seededValues(6, 1), shape: [6] },
    target: { data: seededValues(6, 2), shape: [6] },
  });
  mine.forEach((m, i) =>
    assertClose(m, r[`s${i}`]!.data, { rtol: 1e-10, atol: 1e-12, what: `SGD step ${i}` }),
  );
  const plain = run((p) => new SGD(p, { lr: 0.1 }));
  const rp = torchRef(REF('torch.optim.SGD([p], lr=0.1)'), {
    p0: { data: seededValues(6, 1), shape: [6] },
    target: { data: seededValues(6, 2), shape: [6] },
  });
  plain.forEach((m, i) =>
    assertClose(m, rp[`s${i}`]!.data, { rtol: 1e-10, atol: 1e-12, what: `plain SGD ${i}` }),
  );
});

test('AdamW follows torch.optim.AdamW', { skip }, () => {
  const mine = run((p) => new AdamW(p, { lr: 0.05, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 }));
  const r = torchRef(REF('torch.optim.AdamW([p], lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)'), {
    p0: { data: seededValues(6, 1), shape: [6] },
    target: { data: seededValues(6, 2), shape: [6] },
  });
  mine.forEach((m, i) =>
    assertClose(m, r[`s${i}`]!.data, { rtol: 1e-10, atol: 1e-12, what: `AdamW step ${i}` }),
  );
});

test('optimizer state saved after 2 steps and loaded into a fresh optimizer continues exactly', () => {
  for (const make of [
    (p: Tensor[]) => new SGD(p, { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 }),
    (p: Tensor[]) => new AdamW(p, { lr: 0.05 }),
  ]) {
    const straight = run(make, 5);
    // 2 steps, save, then a new optimizer from the saved state for 3 more
    const p = keep(Tensor.fromArray(seededValues(6, 1), [2, 3]).requiresGrad_());
    const target = keep(Tensor.fromArray(seededValues(6, 2), [2, 3]));
    const step = (opt: Optimizer) =>
      tidy(() => {
        opt.zeroGrad();
        p.sub(target).pow(2).mul(3).sum().backward();
        opt.step();
      });
    const a = make([p]);
    step(a);
    step(a);
    const { tensors, meta } = a.stateDict();
    const bytes = encodeSafetensors(tensors, { meta: JSON.stringify(meta) });
    a.dispose();
    const loaded = decodeSafetensors(bytes);
    const b = make([p]);
    b.loadStateDict(loaded.tensors, JSON.parse(loaded.metadata.meta!) as Record<string, unknown>);
    for (let i = 0; i < 3; i++) step(b);
    assert.deepEqual(p.toArray(), straight[4], `${b.constructor.name} resumed`);
    b.dispose();
  }
});

test('poly LR and gradient clipping', () => {
  assert.equal(polyLR(0.01, 0, 100), 0.01);
  assert.ok(Math.abs(polyLR(0.01, 50, 100) - 0.01 * 0.5 ** 0.9) < 1e-15);
  assert.equal(polyLR(0.01, 100, 100), 0);
  const p = keep(Tensor.fromArray(new Float64Array([3, 4]), [2]).requiresGrad_());
  p.mul(p).sum().div(2).backward(); // grad = p = (3, 4), norm 5
  const norm = clipGradNorm([p], 1);
  assert.ok(Math.abs(norm - 5) < 1e-12);
  assertClose(p.grad!, [0.6, 0.8], { rtol: 1e-5 });
});
