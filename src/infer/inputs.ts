// Finding the cases of a prediction input: one file (3D, or 4D with channels as volumes), a DICOM
// series folder, or a folder of nnU-Net-named channel files (CASE_0000.nii.gz, CASE_0001...) and
// plain image files.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatOfName } from '../io/image.js';

export interface InputCase {
  id: string;
  /** Channel files in order; a single 4D file or DICOM folder stands for all channels. */
  files: string[];
}

const ENDINGS = ['.nii.gz', '.nii', '.nrrd', '.nhdr'];

function stripEnding(name: string): string {
  const e = ENDINGS.find((x) => name.toLowerCase().endsWith(x));
  return e ? name.slice(0, -e.length) : name;
}

function isDicomFolder(dir: string): boolean {
  return readdirSync(dir).some((f) => /\.dcm$/i.test(f) || /^IM/i.test(f));
}

export function findInputCases(input: string): InputCase[] {
  const st = statSync(input, { throwIfNoEntry: false });
  if (!st) throw new Error(`${input}: no such file or folder`);
  if (st.isFile()) {
    // CASE_0000.nii.gz given alone: its channel siblings CASE_0001... in the same folder come along
    const stem = stripEnding(path.basename(input));
    const m = /^(.*)_0000$/.exec(stem);
    if (!m) return [{ id: stem.replace(/_\d{4}$/, ''), files: [input] }];
    const ending = path.basename(input).slice(stem.length);
    const files = [input];
    for (let c = 1; ; c++) {
      const sibling = path.join(path.dirname(input), `${m[1]}_${String(c).padStart(4, '0')}${ending}`);
      if (!statSync(sibling, { throwIfNoEntry: false })) break;
      files.push(sibling);
    }
    return [{ id: m[1]!, files }];
  }
  if (isDicomFolder(input)) return [{ id: path.basename(path.resolve(input)), files: [input] }];
  const groups = new Map<string, { channel: number; file: string }[]>();
  for (const name of readdirSync(input).sort()) {
    const full = path.join(input, name);
    const s = statSync(full);
    if (s.isDirectory()) {
      if (isDicomFolder(full)) groups.set(name, [{ channel: 0, file: full }]);
      continue;
    }
    if (!formatOfName(name)) continue;
    const stem = stripEnding(name);
    const m = /^(.*)_(\d{4})$/.exec(stem);
    const id = m ? m[1]! : stem;
    const channel = m ? Number(m[2]) : 0;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push({ channel, file: full });
  }
  const cases: InputCase[] = [];
  for (const [id, files] of groups) {
    files.sort((a, b) => a.channel - b.channel);
    files.forEach((f, i) => {
      if (f.channel !== i)
        throw new Error(
          `${input}: case ${id} has channel files ${files.map((x) => x.channel).join(', ')} (expected 0000, 0001, ...)`,
        );
    });
    cases.push({ id, files: files.map((f) => f.file) });
  }
  if (!cases.length) throw new Error(`${input}: no images found (.nii, .nii.gz, .nrrd or DICOM)`);
  return cases;
}
