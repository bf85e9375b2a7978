// Loading a source model's weights into the target network by name and shape, with one row per
// tensor saying what became of it:
//   loaded          same name and shape in the source: copied as is;
//   adapted         the first convolution when the channel count differs: each new input channel
//                   gets the mean of the source's input filters, scaled by c_src / c_new, so that an
//                   image whose channels all carry the same signal gives the first layer the same
//                   response as the source had (Σ_new w' = Σ_src w);
//   expanded        a binary (background / foreground) softmax head into a target of K > 2 softmax
//                   classes: background from the source's background row, each of the K − 1 target
//                   classes from its foreground row with the bias lowered by ln(K − 1), so the start
//                   gives every voxel the source's foreground probability, shared among the classes
//                   (what a meta-learned initialisation's shared foreground head knows is kept; the
//                   classes then part as training sees them);
//   re-initialised  a segmentation head when the label set differs (the target's fresh He init), or
//                   a tensor the source does not have (a multi-task model keeps its heads and stems
//                   under other names);
//   skipped         a source tensor the target network has no place for (listed, never silent);
//   folded          a multi-task model's input stem, folded into the first convolution (see
//                   multitaskSource.ts).
// Any other shape difference means the checkpoint does not belong to its own plans: refused.
import { Tensor, noGrad } from '../engine/index.js';
import type { UNet } from '../nn/unet.js';

export type Fate = 'loaded' | 'adapted' | 'expanded' | 're-initialised' | 'skipped' | 'folded';

export interface WeightRow {
  name: string;
  fate: Fate;
  /** Shape in the source checkpoint; null when it has none. */
  source: number[] | null;
  /** Shape in the target network; null when it has none. */
  target: number[] | null;
  why: string;
}

const same = (a: readonly number[], b: readonly number[]) => a.join(',') === b.join(',');

/** The first convolution's weight: the one tensor that sees the input channels. */
export function firstConvName(net: UNet): string {
  const rank = net.spec.dims + 2;
  const hit = net.namedParameters().find(([n, p]) => n.startsWith('encoder.') && p.shape.length === rank);
  if (!hit) throw new Error('the network has no first convolution');
  return hit[0];
}

export const isHead = (name: string) => name.startsWith('decoder.seg_layers.');

/** The new first-conv weight [O, cNew, ...k] from the source's [O, cSrc, ...k] (see above). */
export function adaptFirstConv(src: Tensor, cNew: number): Tensor {
  const [O, cSrc, ...k] = src.shape as number[];
  const per = k.reduce((a, b) => a * b, 1);
  if (src.dtype !== 'float32')
    throw new Error(`first convolution: float32 weights expected, got ${src.dtype}`);
  const w = src.toArray() as Float32Array; // a checkpoint's tensors: contiguous, on the CPU
  const out = new Float32Array(O! * cNew * per);
  const scale = cSrc! / cNew;
  for (let o = 0; o < O!; o++)
    for (let j = 0; j < per; j++) {
      let s = 0;
      for (let i = 0; i < cSrc!; i++) s += w[(o * cSrc! + i) * per + j]!;
      const v = (s / cSrc!) * scale;
      for (let c = 0; c < cNew; c++) out[(o * cNew + c) * per + j] = v;
    }
  return Tensor.fromArray(out, [O!, cNew, ...k], 'float32');
}

/** A binary head's weight [2, ...] or bias [2] as K rows (see `expanded` above). */
export function expandBinaryHead(src: Tensor, k: number, isBias: boolean): Tensor {
  const [two, ...rest] = src.shape as number[];
  if (two !== 2 || k < 3)
    throw new Error(`expanding a head: [2, ...] into ≥ 3 rows expected, got [${src.shape}] → ${k}`);
  if (src.dtype !== 'float32')
    throw new Error(`expanding a head: float32 weights expected, got ${src.dtype}`);
  const w = src.toArray() as Float32Array;
  const per = rest.reduce((a, b) => a * b, 1);
  const out = new Float32Array(k * per);
  out.set(w.subarray(0, per), 0);
  const shift = isBias ? Math.log(k - 1) : 0;
  for (let c = 1; c < k; c++) for (let j = 0; j < per; j++) out[c * per + j] = w[per + j]! - shift;
  return Tensor.fromArray(out, [k, ...rest], 'float32');
}

/**
 * Copies what fits of `source` (name → tensor, the network's own weights) into `net`; returns the
 * table. `newLabels`: the label set differs, so the heads start fresh even when their shapes match.
 */
export function loadTransferred(
  net: UNet,
  source: Map<string, Tensor>,
  o: {
    newLabels: boolean;
    sourceName: string;
    notes?: Map<string, string>;
    /** The source's heads are binary softmax heads and the target's softmax over > 2 classes:
     * expand them (see `expanded` above) instead of starting them fresh. */
    expandBinaryHeads?: boolean;
  },
): WeightRow[] {
  const rows: WeightRow[] = [];
  const first = firstConvName(net);
  const own = net.stateDict();
  noGrad(() => {
    for (const [name, t] of own) {
      const s = source.get(name);
      const target = [...t.shape];
      if (!s) {
        rows.push({ name, fate: 're-initialised', source: null, target, why: 'not in the source' });
        continue;
      }
      const shape = [...s.shape];
      if (
        isHead(name) &&
        o.expandBinaryHeads &&
        shape[0] === 2 &&
        target[0]! > 2 &&
        same(shape.slice(1), target.slice(1))
      ) {
        const bias = name.endsWith('.bias');
        const w = expandBinaryHead(s, target[0]!, bias);
        t.copy_(w);
        w.dispose();
        const k = target[0]!;
        rows.push({
          name,
          fate: 'expanded',
          source: shape,
          target,
          why:
            `binary head → ${k} classes: background from row 0, classes 1…${k - 1} from the foreground row` +
            (bias ? ` (bias − ln ${k - 1})` : '') +
            (o.notes?.has(name) ? ` (${o.notes.get(name)})` : ''),
        });
        continue;
      }
      if (isHead(name) && (o.newLabels || !same(shape, target))) {
        rows.push({
          name,
          fate: 're-initialised',
          source: shape,
          target,
          why: 'new segmentation head: the label set differs',
        });
        continue;
      }
      if (same(shape, target)) {
        t.copy_(s);
        rows.push({ name, fate: 'loaded', source: shape, target, why: o.notes?.get(name) ?? '' });
        continue;
      }
      if (
        name === first &&
        same(
          shape.filter((_, i) => i !== 1),
          target.filter((_, i) => i !== 1),
        )
      ) {
        const w = adaptFirstConv(s, target[1]!);
        t.copy_(w);
        w.dispose();
        rows.push({
          name,
          fate: 'adapted',
          source: shape,
          target,
          why:
            `${shape[1]} → ${target[1]} input channels: mean of the source's input filters × ${shape[1]}/${target[1]}` +
            (o.notes?.has(name) ? ` (${o.notes.get(name)})` : ''),
        });
        continue;
      }
      throw new Error(
        `${o.sourceName}: ${name} has shape [${shape}] but the network its plans.json describes needs [${target}]: the checkpoint does not belong to these plans`,
      );
    }
  });
  for (const [name, s] of source)
    if (!own.has(name))
      rows.push({
        name,
        fate: 'skipped',
        source: [...s.shape],
        target: null,
        why: 'not in the target network',
      });
  if (!rows.some((r) => r.fate === 'loaded' || r.fate === 'adapted' || r.fate === 'expanded'))
    throw new Error(
      `${o.sourceName}: no tensor matches the target network by name and shape (not a medseg U-Net?)`,
    );
  return rows;
}

/** The table as text: one line per tensor, then the count of each fate. */
export function formatWeightTable(rows: WeightRow[]): string {
  const shape = (s: number[] | null) => (s ? `[${s.join(',')}]` : '-');
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map(
    (r) =>
      `  ${r.fate.padEnd(14)} ${r.name.padEnd(width)}  ${shape(r.source).padStart(18)} → ${r.why ? `${shape(r.target).padEnd(18)}  ${r.why}` : shape(r.target)}`,
  );
  const counts = (['loaded', 'adapted', 'expanded', 're-initialised', 'skipped', 'folded'] as Fate[])
    .filter((f) => (f !== 'folded' && f !== 'expanded') || rows.some((r) => r.fate === f))
    .map((f) => `${rows.filter((r) => r.fate === f).length} ${f}`)
    .join(', ');
  return `weights by name and shape (source → target):\n${lines.join('\n')}\n  ${counts}`;
}

/** The parameters a freeze mode holds fixed: only tensors loaded as is (new or adapted ones train). */
export function frozenNames(rows: WeightRow[], mode: 'encoder' | 'all-but-heads'): Set<string> {
  return new Set(
    rows
      .filter((r) => r.fate === 'loaded')
      .map((r) => r.name)
      .filter((n) => (mode === 'encoder' ? n.startsWith('encoder.') : !isHead(n))),
  );
}

/** Sets requiresGrad: false on the named parameters, true on every other (the optimiser skips
 * parameters without a gradient, so frozen ones get neither updates nor weight decay). */
export function setFrozen(net: UNet, frozen: Set<string>): void {
  for (const [name, p] of net.namedParameters()) p.requiresGrad = !frozen.has(name);
}
