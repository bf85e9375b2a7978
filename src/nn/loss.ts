// Segmentation losses: nnU-Net's Dice + cross-entropy, and its deep-supervision weighting.
import { F, stack, tidy, type Tensor } from '../engine/index.js';

export interface DiceCEOptions {
  /** Skip class 0 in the Dice term (nnU-Net: yes). */
  excludeBackground?: boolean;
  /**
   * Dice over the whole batch instead of per sample. Default false; nnU-Net turns it on for its 3D
   * configurations, and the plans carry it per configuration (Configuration.batchDice).
   */
  batchDice?: boolean;
  smooth?: number;
  ceWeight?: number;
  diceWeight?: number;
}

/** One-hot float [N, C, ...] of integer labels [N, ...]. */
export function oneHotChannelsFirst(labels: Tensor, classes: number): Tensor {
  return tidy(() => {
    const oh = F.oneHot(labels.to('int64'), classes); // [N, ..., C]
    const n = oh.ndim;
    return oh.permute(0, n - 1, ...Array.from({ length: n - 2 }, (_, i) => i + 1)).to('float32');
  });
}

/** Soft Dice per class: (2·Σ p·y + s) / (Σ p + Σ y + s), over spatial axes (and the batch when batchDice). */
export function softDice(probs: Tensor, onehot: Tensor, batchDice: boolean, smooth: number): Tensor {
  return tidy(() => {
    const axes = Array.from({ length: probs.ndim - 2 }, (_, i) => i + 2);
    const red = batchDice ? [0, ...axes] : axes;
    const inter = probs.mul(onehot).sum(red);
    const denom = probs.sum(red).add(onehot.sum(red));
    return inter.mul(2).add(smooth).div(denom.add(smooth).clamp(1e-8));
  });
}

/**
 * CE + (1 − mean soft Dice) for logits [N, C, ...] and integer labels [N, ...]; computed in float32.
 * nnU-Net's value is CE − Dice: the same gradients, 1 lower (test/nn/loss-reference.test.ts).
 */
export function diceCELoss(logits: Tensor, labels: Tensor, o: DiceCEOptions = {}): Tensor {
  return tidy(() => {
    const x = logits.dtype === 'float32' ? logits : logits.float();
    const classes = x.shape[1]!;
    const target = labels.to('int64');
    const ce = F.crossEntropy(x, target);
    const probs = F.softmax(x, 1);
    const dice = softDice(
      probs,
      oneHotChannelsFirst(target, classes),
      o.batchDice ?? false,
      o.smooth ?? 1e-5,
    );
    const fg = o.excludeBackground === false || classes === 1 ? dice : dice.narrow(-1, 1, classes - 1);
    const diceLoss = fg.mean().neg().add(1);
    return ce.mul(o.ceWeight ?? 1).add(diceLoss.mul(o.diceWeight ?? 1));
  });
}

/** nnU-Net's deep-supervision weights: 1/2^i, the lowest resolution's set to 0, normalised to sum 1. */
export function deepSupervisionWeights(n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / 2 ** i);
  if (n > 1) w[n - 1] = 0;
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/**
 * Labels [N, ...] resized by nearest neighbour to each output's spatial size. Halving picks voxel 2j
 * for output j, the voxel a stride-2 3×3 convolution centres output j on (nnU-Net v2 uses
 * 'nearest-exact', voxel 2j + 1: half a voxel off that centre).
 */
export function downsampleLabels(labels: Tensor, outputs: Tensor[]): Tensor[] {
  return outputs.map((o) =>
    tidy(() => {
      const size = o.shape.slice(2);
      if (size.join(',') === labels.shape.slice(1).join(',')) return labels.clone();
      const l = labels.unsqueeze(1).to('float32');
      return F.interpolate(l, [...size], 'nearest')
        .squeeze(1)
        .to('int64');
    }),
  );
}

/**
 * Region targets float [N, R, ...] of class indices [N, ...]: channel r is 1 where the class is one of
 * `regions[r]` (class indices), as nnU-Net's region-based training builds them.
 */
export function regionTargets(labels: Tensor, regions: number[][]): Tensor {
  return tidy(() =>
    stack(
      regions.map((set) =>
        set
          .map((c) => labels.eq(c))
          .reduce((a, b) => a.logicalOr(b))
          .to('float32'),
      ),
      1,
    ),
  );
}

/**
 * Region-based loss for logits [N, R, ...] (one sigmoid output per region, no background channel) and
 * class indices [N, ...]: BCE + (1 − mean soft Dice of the sigmoid over every region), nnU-Net's
 * DC_and_BCE_loss with its Dice over all channels (there is no background channel to leave out).
 */
export function regionDiceBCELoss(
  logits: Tensor,
  labels: Tensor,
  regions: number[][],
  o: DiceCEOptions = {},
): Tensor {
  return tidy(() => {
    const x = logits.dtype === 'float32' ? logits : logits.float();
    const target = regionTargets(labels, regions);
    const bce = F.bceWithLogits(x, target);
    const dice = softDice(x.sigmoid(), target, o.batchDice ?? false, o.smooth ?? 1e-5);
    const diceLoss = dice.mean().neg().add(1);
    return bce.mul(o.ceWeight ?? 1).add(diceLoss.mul(o.diceWeight ?? 1));
  });
}

/**
 * The deep-supervision loss: Σ w_i · DiceCE(output_i, labels at output_i's resolution); with `regions`
 * (class indices per region) the region loss instead.
 */
export function deepSupervisionLoss(
  outputs: Tensor[],
  labels: Tensor,
  o: DiceCEOptions = {},
  regions?: number[][],
): Tensor {
  return tidy(() => {
    const w = deepSupervisionWeights(outputs.length);
    const targets = downsampleLabels(labels, outputs);
    let total: Tensor | null = null;
    outputs.forEach((out, i) => {
      if (w[i] === 0) return;
      const one = regions ? regionDiceBCELoss(out, targets[i]!, regions, o) : diceCELoss(out, targets[i]!, o);
      const l = one.mul(w[i]!);
      total = total ? total.add(l) : l;
    });
    return total!;
  });
}
