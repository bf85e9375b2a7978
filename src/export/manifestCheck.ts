// The checks of an export's export.json, with no file-system access: the caller says how an ONNX file
// named there is found (a folder on disk for readManifest, the files a user dropped into the
// in-browser page). One clear error naming the manifest per problem.
import type { ExportManifest } from './manifest.js';

export const MANIFEST_FORMAT = 'medseg-onnx-export';

export class ExportFormatError extends Error {}

/**
 * Checks a parsed export.json (`file` names it in messages). `missing(rel)` returns null when the
 * ONNX file `rel` is there, else the name to report it by.
 */
export function checkManifest(
  parsed: unknown,
  file: string,
  missing: (rel: string) => string | null,
): ExportManifest {
  const bad = (why: string) => new ExportFormatError(`${file}: ${why}`);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('not a JSON object');
  const m = parsed as ExportManifest;
  if (m.format !== MANIFEST_FORMAT)
    throw bad(`format is '${String(m.format)}', expected '${MANIFEST_FORMAT}'`);
  if (m.version !== 1) throw bad(`version ${String(m.version)} is not supported (this medseg reads 1)`);
  if (!Array.isArray(m.channelNames) || !m.channelNames.length) throw bad('channelNames missing');
  if (!Array.isArray(m.labelValues) || m.labelValues.length < 2) throw bad('labelValues missing');
  if (!Array.isArray(m.configurations) || !m.configurations.length) throw bad('no configurations');
  if (!Array.isArray(m.members) || !m.members.length) throw bad('no members');
  const names = new Set(m.configurations.map((c) => c.name));
  for (const name of m.members) if (!names.has(name)) throw bad(`member '${name}' has no configuration`);
  for (const c of m.configurations) {
    if (c.dims !== 2 && c.dims !== 3) throw bad(`${c.name}: dims must be 2 or 3`);
    if (!Array.isArray(c.patch) || c.patch.length !== c.dims)
      throw bad(`${c.name}: patch must have ${c.dims} entries`);
    if (!Array.isArray(c.spacing) || c.spacing.length !== 3)
      throw bad(`${c.name}: spacing must have 3 entries`);
    if (!Array.isArray(c.normalization) || c.normalization.length !== m.channelNames.length)
      throw bad(`${c.name}: normalization must have one entry per channel (${m.channelNames.length})`);
    if (c.crop !== undefined && c.crop !== 'nonzero' && c.crop !== 'background')
      throw bad(`${c.name}: crop must be 'nonzero' or 'background', not ${JSON.stringify(c.crop)}`);
    if (c.numClasses !== m.labelValues.length)
      throw bad(`${c.name}: numClasses ${c.numClasses}, but ${m.labelValues.length} label values`);
    if (c.cascade && !names.has(c.cascade.previousStage))
      throw bad(`${c.name}: its previous stage ${c.cascade.previousStage} is not exported`);
    if (!Array.isArray(c.folds) || !c.folds.length) throw bad(`${c.name}: no folds`);
    for (const f of c.folds) {
      const gone = missing(f.file);
      if (gone !== null) throw bad(`${c.name} fold ${f.fold}: ${gone} is missing`);
    }
  }
  return m;
}
