// The training recipe's knobs besides the optimiser and schedule, with nnU-Net's defaults: the
// weights of the loss terms, the share of each batch forced to contain foreground, and the
// augmentation strength. A run takes each from its options, else from the plan's configuration
// (plans.json: lossWeights, foregroundOversampling, augmentationStrength; search trials write them
// there), else from here.

/** w_dice · (1 − soft Dice) + w_ce · CE: nnU-Net's DC_and_CE_loss weighs both terms 1. */
export const DEFAULT_DICE_WEIGHT = 1;
export const DEFAULT_CE_WEIGHT = 1;
/**
 * nnU-Net's oversample_foreground_percent: sample i of a batch of N is forced to contain foreground
 * when i ≥ round(N · (1 − 0.33)) (sampler.ts). For every batch below 50 that is the same split as
 * a third; 0 forces none, 1 forces every sample.
 */
export const DEFAULT_FOREGROUND_OVERSAMPLING = 0.33;
/** 1: the standard augmentation (augment.ts); 0: none (the batch as sampled). */
export const DEFAULT_AUGMENTATION_STRENGTH = 1;
