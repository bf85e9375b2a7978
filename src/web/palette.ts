// Label colours, shared by the viewer's catalog (server side) and the in-browser segmentation page.
/** Distinct, saturated colours; label 1 is red so a single-label overlay reads like the report's. */
const PALETTE: [number, number, number][] = [
  [255, 0, 0],
  [0, 200, 0],
  [0, 90, 255],
  [255, 200, 0],
  [220, 0, 220],
  [0, 220, 220],
  [255, 128, 0],
  [128, 0, 255],
];

export const labelColor = (value: number): [number, number, number] =>
  PALETTE[(value - 1 + PALETTE.length * 64) % PALETTE.length]!;
