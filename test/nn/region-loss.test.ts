// Region-based training's loss (BraTS-style nested regions, sigmoid outputs) against a PyTorch
// implementation written here from nnU-Net's definition: DC_and_BCE_loss = BCEWithLogits + soft Dice
// of the sigmoid over every region channel (MemoryEfficientSoftDiceLoss with do_bg=True, since there
// is no background channel), targets built as ConvertSegmentationToRegionsTransform does. nnU-Net
// returns BCE − Dice, ours BCE + (1 − Dice): the reference adds the 1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, tidy, grad } from '../../src/engine/index.js';
import { regionDiceBCELoss, regionTargets, deepSupervisionLoss } from '../../src/nn/loss.js';
import { assertClose, seededValues, ref } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

const NNUNET_REGION_LOSS = `
def region_targets(y, regions):
    return torch.stack([torch.isin(y, torch.tensor(r)) for r in regions], 1).float()

def dc_and_bce(x, y, regions, batch_dice, smooth=1e-5):
    t = region_targets(y, regions)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(x, t)
    p = torch.sigmoid(x)
    axes = tuple(range(2, x.ndim))
    intersect = (p * t).sum(axes); sum_pred = p.sum(axes); sum_gt = t.sum(axes)
    if batch_dice:
        intersect, sum_pred, sum_gt = intersect.sum(0), sum_pred.sum(0), sum_gt.sum(0)
    dc = (2 * intersect + smooth) / torch.clip(sum_gt + sum_pred + smooth, 1e-8)
    return bce - dc.mean() + 1
`;

// class indices 0..4 (BraTS: 1 necrosis, 2 oedema, 3 non-enhancing, 4 enhancing), regions WT, TC, ET
const REGIONS = [[1, 2, 3, 4], [1, 3, 4], [4]];

function logits(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(Float32Array.from(seededValues(n, seed, 2)), shape);
}

function classes(shape: number[], k: number, seed: number): Tensor {
  const u = seededValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );
  return Tensor.fromArray(
    BigInt64Array.from(u, (v) => BigInt(Math.floor(((v + 1) / 2) * k) % k)),
    shape,
    'int64',
  );
}

test('region targets: channel r is 1 exactly where the class is in region r', () => {
  tidy(() => {
    const y = classes([2, 3, 4, 5], 5, 7);
    const t = regionTargets(y, REGIONS);
    assert.deepEqual(t.shape, [2, 3, 3, 4, 5]);
    const ys = y.toArray() as BigInt64Array;
    const ts = t.toArray() as Float32Array;
    const per = 3 * 4 * 5;
    for (let i = 0; i < ys.length; i++) {
      const b = Math.floor(i / per);
      REGIONS.forEach((set, r) =>
        assert.equal(ts[(b * 3 + r) * per + (i % per)], set.includes(Number(ys[i])) ? 1 : 0),
      );
    }
  });
});

for (const batchDice of [false, true]) {
  test(
    `region loss (batch Dice ${batchDice ? 'on' : 'off'}): value and gradient match nnU-Net's DC_and_BCE_loss`,
    { skip },
    () => {
      tidy(() => {
        const x = logits([2, 3, 5, 4, 6], 41).requiresGrad_();
        const y = classes([2, 5, 4, 6], 5, 42);
        const loss = regionDiceBCELoss(x, y, REGIONS, { batchDice });
        const [gx] = grad([loss], [x]);
        const r = torchRef(
          `${NNUNET_REGION_LOSS}
x = T['x'].float().requires_grad_(); y = T['y']
l = dc_and_bce(x, y, ${JSON.stringify(REGIONS)}, ${batchDice ? 'True' : 'False'})
l.backward()
out['loss'] = l; out['grad'] = x.grad
`,
          { x: ref(x), y: { data: y.toArray() as BigInt64Array, shape: [...y.shape] } },
        );
        assertClose([loss.item()], r.loss!.data, { rtol: 1e-5, what: 'loss' });
        assertClose(gx!, r.grad!.data, { rtol: 1e-4, atol: 1e-7, what: 'd loss / d logits' });
      });
    },
  );
}

test('deep supervision with regions sums the region loss of each output at its own resolution', () => {
  tidy(() => {
    const outs = [logits([1, 3, 8, 8, 4], 51), logits([1, 3, 4, 4, 2], 52), logits([1, 3, 2, 2, 1], 53)];
    const y = classes([1, 8, 8, 4], 5, 54);
    const total = deepSupervisionLoss(outs, y, {}, REGIONS).item();
    const yHalf = tidy(() =>
      Tensor.fromArray(
        BigInt64Array.from(
          Array.from({ length: 4 * 4 * 2 }, (_, i) => {
            const [z, yy, x] = [Math.floor(i / 8), Math.floor(i / 2) % 4, i % 2];
            return (y.toArray() as BigInt64Array)[(2 * z * 8 + 2 * yy) * 4 + 2 * x]!;
          }),
        ),
        [1, 4, 4, 2],
        'int64',
      ),
    );
    // weights of 3 outputs: 1, 1/2, 0 normalised → 2/3, 1/3
    const expected =
      (2 / 3) * regionDiceBCELoss(outs[0]!, y, REGIONS).item() +
      (1 / 3) * regionDiceBCELoss(outs[1]!, yHalf, REGIONS).item();
    assert.ok(Math.abs(total - expected) < 1e-5, `${total} vs ${expected}`);
    // and it is not the softmax loss
    assert.ok(Math.abs(total - deepSupervisionLoss(outs, y.clamp(0, 2), {}).item()) > 1e-3);
  });
});
