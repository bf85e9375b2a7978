// Where predictions may be written: never among the inputs. `predict -i DATASET/imagesTr -o
// DATASET/imagesTr` overwrites nothing, yet the label maps it adds there make the dataset fail its
// own check and training refuse it. So an output folder that is the input folder, holds input files,
// or is one of a dataset's image/label folders is refused before any model is loaded.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { InputCase } from './inputs.js';

/** The folders of an nnU-Net / MSD dataset that hold its images and reference labels. */
export const DATASET_FOLDERS = ['imagesTr', 'labelsTr', 'imagesTs', 'labelsTs'] as const;

/** One input case and an output named like an image file: the output is that file, not a folder. */
export const isSingleFileOutput = (cases: readonly InputCase[], output: string, dicomSeg = false): boolean =>
  cases.length === 1 && (dicomSeg ? /\.dcm$/i : /\.(nii|nii\.gz|nrrd)$/i).test(output);

/** The path with symlinks resolved as far as it exists (the rest appended), so aliases compare equal. */
function canonical(p: string): string {
  const abs = path.resolve(p);
  const missing: string[] = [];
  let at = abs;
  while (!existsSync(at)) {
    const up = path.dirname(at);
    if (up === at) break;
    missing.unshift(path.basename(at));
    at = up;
  }
  return path.join(existsSync(at) ? realpathSync(at) : at, ...missing);
}

/**
 * Throws one line saying why when predictions of `cases` (found in `input`) must not be written to
 * `output`: a folder (or, with `singleFile`, a file) that is the input folder, holds the inputs, or is
 * a dataset's imagesTr/labelsTr/imagesTs/labelsTs. A single-file output next to its input is
 * allowed (`-i ct.nii.gz -o ct_seg.nii.gz`), except in a dataset's folders.
 */
export function assertOutputOutsideInputs(
  input: string,
  output: string,
  cases: readonly InputCase[],
  singleFile: boolean,
): void {
  const out = canonical(output);
  const folder = singleFile ? path.dirname(out) : out;
  const files = cases.flatMap((c) => c.files.map(canonical));
  const hit = files.find((f) => f === out);
  if (hit && singleFile)
    throw new Error(`${output}: is an input (${hit}); predictions never overwrite inputs`);
  const kind = DATASET_FOLDERS.find((d) => path.basename(folder) === d);
  if (kind) {
    const dataset = path.dirname(folder);
    const described = existsSync(path.join(dataset, 'dataset.json')) ? `dataset ${dataset}` : `a dataset`;
    throw new Error(
      `${output}: ${singleFile ? 'lies in' : 'is'} the ${kind} folder of ${described}; predictions written ` +
        'there would make the dataset fail its check: choose an output folder outside the dataset folders',
    );
  }
  // a file written into a DICOM series folder would be read as part of the series next time
  const series = files.find((f) => f === folder);
  if (singleFile && series)
    throw new Error(
      `${output}: lies in the input DICOM series folder ${series}; write it outside the series`,
    );
  if (singleFile) return;
  if (folder === canonical(input))
    throw new Error(`${output}: is the input folder; choose another output folder for the label maps`);
  if (hit) throw new Error(`${output}: is an input (${hit}); predictions never overwrite inputs`);
  const inside = files.find((f) => path.dirname(f) === folder || f === folder);
  if (inside)
    throw new Error(
      `${output}: holds the input images (e.g. ${inside}); choose another output folder for the label maps`,
    );
}
