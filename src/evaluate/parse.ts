// Text forms of labels and regions, as the CLI takes them: "1,2,3" and "WT=1,2,3;TC=1,3;ET=3".
import type { Region } from './metrics.js';

/** "1,2,3" → [1, 2, 3]; "none" → [] (report regions only). Integers ≥ 0 (0 is the background). */
export function parseLabels(text: string): number[] {
  const t = text.trim();
  if (t === 'none') return [];
  const parts = t.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new RangeError(`labels must be integers ≥ 0 separated by commas (or 'none'), got '${text}'`);
  }
  return [...new Set(parts.map(Number))];
}

/** "WT=1,2,3;TC=1,3" → [{name: 'WT', labels: [1, 2, 3]}, {name: 'TC', labels: [1, 3]}]. */
export function parseRegions(text: string): Region[] {
  const regions: Region[] = [];
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    if (eq < 0 || !/^[A-Za-z_][\w.-]*$/.test(name)) {
      throw new RangeError(
        `a region is NAME=LABEL,LABEL,... with a name that starts with a letter, got '${part.trim()}'`,
      );
    }
    let labels: number[];
    try {
      labels = parseLabels(part.slice(eq + 1));
    } catch {
      throw new RangeError(
        `region '${name}': labels must be integers ≥ 0 separated by commas, got '${part.slice(eq + 1)}'`,
      );
    }
    if (labels.length === 0) throw new RangeError(`region '${name}' has no labels`);
    if (regions.some((r) => r.name === name)) throw new RangeError(`region '${name}' is given twice`);
    regions.push({ name, labels });
  }
  if (regions.length === 0) throw new RangeError(`no region in '${text}'`);
  return regions;
}
