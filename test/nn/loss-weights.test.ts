// The Dice and CE weights of the loss against nnU-Net's DC_and_CE_loss(weight_ce, weight_dice),
// written here in PyTorch from its definition: result = weight_ce · CE + weight_dice · (−soft Dice).
// Ours is ce · CE + dice · (1 − soft Dice): the same gradients, `dice` higher (the reference adds
// it). Values and gradients, with deep supervision, batch Dice on and off, and one term switched off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, tidy, grad } from '../../src/engine/index.js';
import { deepSupervisionLoss, diceCELoss } from '../../src/nn/loss.js';
import { assertClose, seededValues, ref } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

/** nnU-Net's weighted Dice + CE (do_bg False, smooth 1e-5, clip 1e-8) and deep-supervision weights. */
const NNUNET_WEIGHTED = `
def soft_dice(x, y, batch_dice, smooth=1e-5):
    p = torch.softmax(x, 1)
    axes = tuple(range(2, x.ndim))
    onehot = torch.zeros_like(p).scatter_(1, y[:, None], 1)
    p, onehot = p[:, 1:], onehot[:, 1:]
    intersect, sum_pred, sum_gt = (p * onehot).sum(axes), p.sum(axes), onehot.sum(axes)
    if batch_dice:
        intersect, sum_pred, sum_gt = intersect.sum(0), sum_pred.sum(0), sum_gt.sum(0)
    return -((2 * intersect + smooth) / torch.clip(sum_gt + sum_pred + smooth, 1e-8)).mean()

def dc_and_ce(x, y, batch_dice, w_ce, w_dice):
    ce = F.cross_entropy(x, y)
    return w_ce * ce + w_dice * soft_dice(x, y, batch_dice) + w_dice   # + w_dice: ours is 1 - Dice

def ds_weights(n):
    w = np.array([1 / (2 ** i) for i in range(n)])
    w[-1] = 0
    return w / w.sum()
`;

function logits(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(Float32Array.from(seededValues(n, seed, 2)), shape);
}

function labels(shape: number[], classes: number, seed: number): Tensor {
  const u = seededValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );
  return Tensor.fromArray(
    BigInt64Array.from(u, (v) => BigInt(Math.floor(((v + 1) / 2) * classes) % classes)),
    shape,
    'int64',
  );
}

const WEIGHTS: [number, number][] = [
  [0.5, 2],
  [1, 0],
  [0, 1],
  [3, 0.25],
];

for (const batchDice of [false, true]) {
  test(
    `weighted Dice + CE with deep supervision (batch Dice ${batchDice ? 'on' : 'off'}): values and gradients match nnU-Net's weight_dice / weight_ce`,
    { skip },
    () => {
      tidy(() => {
        const y = labels([2, 8, 6, 6], 3, 41);
        const inputs = { y: { data: y.toArray() as BigInt64Array, shape: [...y.shape] } } as Record<
          string,
          ReturnType<typeof ref> | { data: BigInt64Array; shape: number[] }
        >;
        const ours: { loss: number; g0: Tensor; g1: Tensor }[] = [];
        for (const [k, [dice, ce]] of WEIGHTS.entries()) {
          const outs = [
            logits([2, 3, 8, 6, 6], 50 + k).requiresGrad_(),
            logits([2, 3, 4, 3, 3], 60 + k).requiresGrad_(),
            logits([2, 3, 2, 2, 2], 70 + k).requiresGrad_(),
          ];
          const loss = deepSupervisionLoss(outs, y, { batchDice, diceWeight: dice, ceWeight: ce });
          const g = grad([loss], outs);
          ours.push({ loss: loss.item(), g0: g[0]!, g1: g[1]! });
          outs.forEach((o, i) => (inputs[`o${k}_${i}`] = ref(o)));
        }
        const r = torchRef(
          `${NNUNET_WEIGHTED}
for k, (wd, wc) in enumerate(${JSON.stringify(WEIGHTS)}):
    outs = [T['o%d_%d' % (k, i)].float().requires_grad_() for i in range(3)]
    w = ds_weights(3)
    total = 0
    for i, o in enumerate(outs):
        t = F.interpolate(T['y'][:, None].double(), size=o.shape[2:], mode='nearest')[:, 0].long()
        if w[i] != 0:
            total = total + float(w[i]) * dc_and_ce(o, t, ${batchDice ? 'True' : 'False'}, wc, wd)
    total.backward()
    out['loss%d' % k] = total
    out['g%d_0' % k] = outs[0].grad
    out['g%d_1' % k] = outs[1].grad
`,
          inputs as never,
        );
        ours.forEach((o, k) => {
          const what = `weights dice ${WEIGHTS[k]![0]}, ce ${WEIGHTS[k]![1]}`;
          assertClose([o.loss], r[`loss${k}`]!.data, { rtol: 1e-5, what: `${what}: loss` });
          assertClose(o.g0, r[`g${k}_0`]!.data, {
            rtol: 1e-4,
            atol: 1e-7,
            what: `${what}: full-res gradient`,
          });
          assertClose(o.g1, r[`g${k}_1`]!.data, {
            rtol: 1e-4,
            atol: 1e-7,
            what: `${what}: half-res gradient`,
          });
        });
      });
    },
  );
}

test('the loss is linear in its two weights: L(a, b) = a · L(1, 0) + b · L(0, 1)', () => {
  tidy(() => {
    const x = logits([2, 4, 5, 4, 6], 7);
    const y = labels([2, 5, 4, 6], 4, 8);
    const L = (dice: number, ce: number) => diceCELoss(x, y, { diceWeight: dice, ceWeight: ce }).item();
    const dicePart = L(1, 0);
    const cePart = L(0, 1);
    // both parts are genuinely there (the test could tell a dropped weight)
    assert.ok(dicePart > 0.05 && cePart > 0.05, `${dicePart} ${cePart}`);
    for (const [a, b] of [
      [0.5, 2],
      [2, 0.5],
      [1, 1],
    ] as const)
      assertClose([L(a, b)], [a * dicePart + b * cePart], { rtol: 1e-6, what: `L(${a}, ${b})` });
    // the defaults are nnU-Net's 1 and 1
    assertClose([diceCELoss(x, y).item()], [dicePart + cePart], { rtol: 1e-6, what: 'default weights' });
  });
});
