// The JSON the server sends (/api/catalog.json): a copy of the shapes of src/web/catalog.ts, which the
// page cannot import (it is built for the browser, the server for Node).
export interface Label {
  value: number;
  name: string;
  color: [number, number, number];
}
export interface Prediction {
  config: string;
  fold: number;
  url: string;
}
export interface Case {
  id: string;
  image?: string;
  reference?: string;
  predictions: Prediction[];
  metrics: Record<string, Record<string, Record<string, number | null>>>;
}
export interface EpochRow {
  epoch: number;
  train_loss: number;
  val_dice: number[];
  val_mean_dice: number;
  ema_dice: number;
  lr: number;
  seconds: number;
}
export interface Catalog {
  name: string;
  labels: Label[];
  cases: Case[];
  training: { config: string; fold: number; log: EpochRow[] }[];
  evaluations: { name: string; config?: string; fold?: number | string; keys: string[] }[];
  cascade?: { stage1: string; stage2: string };
}
