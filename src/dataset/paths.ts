// File-name helpers shared by the layout readers: endings with two dots (.nii.gz) and case ids.
import path from 'node:path';

// Longest first, so that '.nii.gz' wins over '.gz'.
const KNOWN_ENDINGS = ['.nii.gz', '.nii', '.nrrd', '.nhdr', '.mha', '.mhd', '.dcm', '.tif', '.tiff', '.png'];

/** The image-format ending of a file name ('.nii.gz' for 'a/b.nii.gz'), or its last extension. */
export function fileEnding(file: string): string {
  const base = path.basename(file).toLowerCase();
  for (const e of KNOWN_ENDINGS) if (base.endsWith(e) && base.length > e.length) return file.slice(-e.length);
  return path.extname(file);
}

/** The file name without directory and image ending: 'imagesTr/la_003.nii.gz' → 'la_003'. */
export function stripEnding(file: string): string {
  const base = path.basename(file);
  return base.slice(0, base.length - fileEnding(base).length);
}

/** Path relative to `root` with '/' separators, for messages. */
export function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Hidden files (dot files, macOS '._' resource forks shipped inside the MSD tarballs) are never data. */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}
