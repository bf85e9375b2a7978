// What preprocessing crops a case to before anything else (a plan's `crop`):
//   nonzero    — nnU-Net's rule: the box around voxels where any channel is non-zero. Plans written
//                before `crop` existed use it.
//   background — the box around voxels where any channel differs from that channel's background:
//                the value that more than half of the volume's border voxels hold, else 0. (Not
//                "the whole border": a brain may touch a face with a few voxels, as one of the four
//                BraTS cases does with 4 of its 57,600 bottom-slice voxels.)
// Data normalised before publication keeps a constant background that is not 0 (the DeepMedic copy
// of BraTS 2013 reads −3.16 and −2.75 outside the brain), so the nonzero rule keeps the whole
// volume: 2.7× the windows at prediction, and patches of empty background in training.
export type CropRule = 'nonzero' | 'background';

/** The rule a plan without `crop` was made with. */
export const LEGACY_CROP: CropRule = 'nonzero';

/** The value more than half of `border` holds (Boyer–Moore majority vote), else 0. */
export function majorityOrZero(border: ArrayLike<number>): number {
  let candidate = 0;
  let votes = 0;
  for (let i = 0; i < border.length; i++) {
    const v = border[i]!;
    if (votes === 0) {
      candidate = v;
      votes = 1;
    } else votes += v === candidate ? 1 : -1;
  }
  let count = 0;
  for (let i = 0; i < border.length; i++) if (border[i] === candidate) count++;
  return 2 * count > border.length ? candidate : 0;
}
