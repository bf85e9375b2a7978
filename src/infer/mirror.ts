// Mirroring (test-time augmentation over every flip of the spatial axes) by default or not, per
// device. Training mirrors every spatial axis (src/train/augment.ts: all axes unless told
// otherwise, and plans have no per-axis setting), so prediction mirrors all of them too when it
// mirrors: 8 network passes per window in 3D, 4 in 2D. That is minutes per case on a CPU (nnU-Net v2
// on one BraTS case on a 2-core CPU: 140 s → 1105 s; medseg 5.3× on a small synthetic case,
// bench/mirror-cost.mjs) for a small Dice gain, and seconds on a GPU: off on the CPU unless asked, on on a GPU.

/** Whether prediction on `device` ('cpu', 'cuda', 'cuda:N') mirrors when nobody said. */
export function mirrorByDefault(device: string): boolean {
  return device !== 'cpu';
}
