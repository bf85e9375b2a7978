// Tensor factories and multi-tensor ops.
import { call, callT, Tensor } from './tensor.js';
import type { DType, Device } from './dtype.js';

export interface Like {
  dtype?: DType;
  device?: Device;
}

const dt = (o?: Like) => o?.dtype ?? 'float32';
const dev = (o?: Like) => o?.device ?? null;

export const zeros = (shape: readonly number[], o?: Like): Tensor =>
  callT('zeros', [...shape], dt(o), dev(o));
export const ones = (shape: readonly number[], o?: Like): Tensor => callT('ones', [...shape], dt(o), dev(o));
export const empty = (shape: readonly number[], o?: Like): Tensor =>
  callT('empty', [...shape], dt(o), dev(o));
export const full = (shape: readonly number[], value: number, o?: Like): Tensor =>
  callT('full', [...shape], value, dt(o), dev(o));
export const arange = (start: number, end: number, step = 1, o?: Like): Tensor =>
  callT('arange', start, end, step, dt(o), dev(o));
export const linspace = (start: number, end: number, steps: number, o?: Like): Tensor =>
  callT('linspace', start, end, steps, dt(o), dev(o));
export const eye = (n: number, o?: Like): Tensor => callT('eye', n, dt(o), dev(o));
export const scalar = (v: number, o?: Like): Tensor => callT('scalar_tensor', v, dt(o), dev(o));
export const zerosLike = (t: Tensor): Tensor => callT('zeros_like', t);
export const onesLike = (t: Tensor): Tensor => callT('ones_like', t);

/** Uniform [0, 1). Draws from the global generator (see manualSeed). */
export const rand = (shape: readonly number[], o?: Like): Tensor => callT('rand', [...shape], dt(o), dev(o));
export const randn = (shape: readonly number[], o?: Like): Tensor =>
  callT('randn', [...shape], dt(o), dev(o));
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: readonly number[], o?: Like): Tensor =>
  callT('randint', low, high, [...shape], o?.dtype ?? 'int64', dev(o));
export const randperm = (n: number): Tensor => callT('randperm', n);

export const cat = (ts: Tensor[], dim = 0): Tensor => callT('cat', ts, dim);
export const stack = (ts: Tensor[], dim = 0): Tensor => callT('stack', ts, dim);
/** cond ? a : b elementwise; either side may be a number. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (a instanceof Tensor && b instanceof Tensor) return callT('where', cond, a, b);
  if (a instanceof Tensor) {
    const notCond = cond.logicalNot();
    try {
      return a.maskedFill(notCond, b as number);
    } finally {
      notCond.dispose();
    }
  }
  if (b instanceof Tensor) return b.maskedFill(cond, a);
  return callT('where_scalar', cond, a, b);
}
export const indexSelect = (t: Tensor, dim: number, index: Tensor): Tensor =>
  callT('index_select', t, dim, index);
export const gather = (t: Tensor, dim: number, index: Tensor): Tensor => callT('gather', t, dim, index);
export const scatter = (t: Tensor, dim: number, index: Tensor, src: Tensor): Tensor =>
  callT('scatter', t, dim, index, src);
export const maskedSelect = (t: Tensor, mask: Tensor): Tensor => callT('masked_select', t, mask);
export const nonzero = (t: Tensor): Tensor => callT('nonzero', t);
export const bincount = (t: Tensor, minlength = 0, weights?: Tensor): Tensor =>
  callT('bincount', t, weights ?? null, minlength);
/** q-quantiles (q a 1-D float tensor) of t, flattened when dim is omitted; linear interpolation. */
export const quantile = (t: Tensor, q: Tensor, dim?: number): Tensor => callT('quantile', t, q, dim ?? null);
export const sort = (t: Tensor, dim = -1, descending = false): [Tensor, Tensor] =>
  call('sort', t, dim, descending) as [Tensor, Tensor];
export const topk = (t: Tensor, k: number, dim = -1, largest = true): [Tensor, Tensor] =>
  call('topk', t, k, dim, largest) as [Tensor, Tensor];
export const matmul = (a: Tensor, b: Tensor): Tensor => callT('matmul', a, b);
