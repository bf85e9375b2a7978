// Niivue colour tables for label maps (the viewer and the in-browser segmentation page).
import type { Label } from './types';

/** A Niivue colour table for a label map: each label its colour, background transparent. */
export function labelColormap(labels: Label[], lighten: number) {
  const max = Math.max(1, ...labels.map((l) => l.value));
  const cm = {
    R: [] as number[],
    G: [] as number[],
    B: [] as number[],
    A: [] as number[],
    I: [] as number[],
    labels: [] as string[],
  };
  for (let v = 0; v <= max; v++) {
    const l = labels.find((x) => x.value === v);
    const [r, g, b] = l?.color ?? [128, 128, 128];
    const mix = (c: number) => Math.round(c + (255 - c) * lighten);
    cm.I.push(v);
    cm.R.push(mix(r));
    cm.G.push(mix(g));
    cm.B.push(mix(b));
    cm.A.push(v === 0 ? 0 : 255);
    cm.labels.push(v === 0 ? '' : (l?.name ?? `label ${v}`));
  }
  return cm;
}
