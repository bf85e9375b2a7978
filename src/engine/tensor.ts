// The Tensor: a TypeScript object over one native libtorch tensor handle. Every method is a thin
// call of a native op; errors from libtorch arrive as EngineError naming the op and input shapes.
import { native, type NativeHandle } from './native.js';
import { track } from './scope.js';
import type { DType, Device, TypedArray } from './dtype.js';
import { dtypeOfArray } from './dtype.js';

/** A failure inside libtorch, with the op name; the message lists the inputs' dtypes and shapes. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly op: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

type Arg = Tensor | number | boolean | string | null | undefined | number[] | Tensor[];

function unwrapArg(a: Arg): unknown {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a) && a.length > 0 && a[0] instanceof Tensor) return (a as Tensor[]).map((t) => t.handle);
  return a;
}

function wrapResult(r: unknown): unknown {
  if (r instanceof native().TensorHandle) return new Tensor(r as NativeHandle);
  if (Array.isArray(r)) return r.map((x) => (x === null ? null : wrapResult(x)));
  return r;
}

/** Calls native op `name`; Tensors in and out are unwrapped and wrapped. */
export function call(name: string, ...args: Arg[]): unknown {
  let r: unknown;
  try {
    r = native().call(name, ...args.map(unwrapArg));
  } catch (e) {
    const err = e as Error & { op?: string; engine?: boolean };
    if (err.engine) throw new EngineError(err.message, err.op ?? name);
    throw e;
  }
  return wrapResult(r);
}

export function callT(name: string, ...args: Arg[]): Tensor {
  return call(name, ...args) as Tensor;
}

export class Tensor {
  private shapeCache: readonly number[] | undefined;
  private dtypeCache: DType | undefined;

  /** @internal use the factory functions; the tensor joins the current tidy scope. */
  constructor(readonly handle: NativeHandle) {
    track(this);
  }

  /** A tensor holding a copy of `data`. */
  static fromArray(data: ArrayBufferView, shape: readonly number[], dtype?: DType, device?: Device): Tensor {
    const d = dtype ?? dtypeOfArray(data);
    try {
      return new Tensor(native().fromArray(data, [...shape], d, device));
    } catch (e) {
      throw new EngineError((e as Error).message, 'fromArray');
    }
  }

  get shape(): readonly number[] {
    if (!this.shapeCache) this.shapeCache = Object.freeze(this.handle.shape());
    return this.shapeCache;
  }
  get dtype(): DType {
    if (!this.dtypeCache) this.dtypeCache = this.handle.dtype() as DType;
    return this.dtypeCache;
  }
  get device(): Device {
    return this.handle.device();
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    return this.shape[dim < 0 ? this.shape.length + dim : dim]!;
  }
  get isDisposed(): boolean {
    return this.handle.isDisposed();
  }
  /** Frees the memory now (views of it stay valid: storage is reference counted). */
  dispose(): void {
    this.handle.dispose();
  }
  toString(): string {
    return this.isDisposed
      ? 'Tensor(disposed)'
      : `Tensor(${this.dtype}[${this.shape.join(',')}] on ${this.device})`;
  }

  // ---- data out ----
  /** A copy of the values (row-major). float16/bfloat16 come as raw Uint16Array bits. */
  toArray(): TypedArray {
    return this.handle.toArray() as TypedArray;
  }
  /** Values as float32, converting when needed. */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.toArray() as Float32Array;
    const f = this.to('float32');
    try {
      return f.toArray() as Float32Array;
    } finally {
      f.dispose();
    }
  }
  /** A view of the tensor's own memory (contiguous CPU tensors only): no copy, writes go through. */
  dataView(): TypedArray {
    return this.handle.dataView() as TypedArray;
  }
  item(): number {
    return Number(this.handle.item());
  }

  // ---- conversion ----
  to(target: DType | Device): Tensor {
    if (target.startsWith('cpu') || target.startsWith('cuda')) return callT('to_device', this, target);
    return callT('to_dtype', this, target);
  }
  float(): Tensor {
    return this.to('float32');
  }
  clone(): Tensor {
    return callT('clone', this);
  }
  contiguous(): Tensor {
    return callT('contiguous', this);
  }
  detach(): Tensor {
    return callT('detach', this);
  }
  get isContiguous(): boolean {
    return call('is_contiguous', this) as boolean;
  }

  // ---- shape ----
  reshape(...shape: number[]): Tensor {
    return callT('reshape', this, shape);
  }
  view(...shape: number[]): Tensor {
    return callT('view', this, shape);
  }
  permute(...dims: number[]): Tensor {
    return callT('permute', this, dims);
  }
  transpose(a: number, b: number): Tensor {
    return callT('transpose', this, a, b);
  }
  squeeze(dim?: number): Tensor {
    return callT('squeeze', this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return callT('unsqueeze', this, dim);
  }
  expand(...shape: number[]): Tensor {
    return callT('expand', this, shape);
  }
  flatten(start = 0, end = -1): Tensor {
    return callT('flatten', this, start, end);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return callT('narrow', this, dim, start, length);
  }
  /** Python's x[..., start:end:step] along dim. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return callT('slice', this, dim, start ?? null, end ?? null, step);
  }
  select(dim: number, index: number): Tensor {
    return callT('select', this, dim, index);
  }
  flip(...dims: number[]): Tensor {
    return callT('flip', this, dims);
  }
  repeat(...times: number[]): Tensor {
    return callT('repeat', this, times);
  }
  split(size: number, dim = 0): Tensor[] {
    return call('split', this, size, dim) as Tensor[];
  }
  chunk(n: number, dim = 0): Tensor[] {
    return call('chunk', this, n, dim) as Tensor[];
  }

  // ---- elementwise ----
  add(o: Tensor | number, alpha?: number): Tensor {
    return callT('add', this, o, alpha);
  }
  sub(o: Tensor | number, alpha?: number): Tensor {
    return callT('sub', this, o, alpha);
  }
  mul(o: Tensor | number): Tensor {
    return callT('mul', this, o);
  }
  div(o: Tensor | number): Tensor {
    return callT('div', this, o);
  }
  pow(o: Tensor | number): Tensor {
    return callT('pow', this, o);
  }
  maximum(o: Tensor | number): Tensor {
    return callT('maximum', this, o);
  }
  minimum(o: Tensor | number): Tensor {
    return callT('minimum', this, o);
  }
  remainder(o: Tensor | number): Tensor {
    return callT('remainder', this, o);
  }
  eq(o: Tensor | number): Tensor {
    return callT('eq', this, o);
  }
  ne(o: Tensor | number): Tensor {
    return callT('ne', this, o);
  }
  lt(o: Tensor | number): Tensor {
    return callT('lt', this, o);
  }
  le(o: Tensor | number): Tensor {
    return callT('le', this, o);
  }
  gt(o: Tensor | number): Tensor {
    return callT('gt', this, o);
  }
  ge(o: Tensor | number): Tensor {
    return callT('ge', this, o);
  }
  logicalAnd(o: Tensor): Tensor {
    return callT('logical_and', this, o);
  }
  logicalOr(o: Tensor): Tensor {
    return callT('logical_or', this, o);
  }
  logicalNot(): Tensor {
    return callT('logical_not', this);
  }
  neg(): Tensor {
    return callT('neg', this);
  }
  abs(): Tensor {
    return callT('abs', this);
  }
  exp(): Tensor {
    return callT('exp', this);
  }
  log(): Tensor {
    return callT('log', this);
  }
  log1p(): Tensor {
    return callT('log1p', this);
  }
  sqrt(): Tensor {
    return callT('sqrt', this);
  }
  rsqrt(): Tensor {
    return callT('rsqrt', this);
  }
  reciprocal(): Tensor {
    return callT('reciprocal', this);
  }
  sign(): Tensor {
    return callT('sign', this);
  }
  floor(): Tensor {
    return callT('floor', this);
  }
  ceil(): Tensor {
    return callT('ceil', this);
  }
  round(): Tensor {
    return callT('round', this);
  }
  sin(): Tensor {
    return callT('sin', this);
  }
  cos(): Tensor {
    return callT('cos', this);
  }
  erf(): Tensor {
    return callT('erf', this);
  }
  sigmoid(): Tensor {
    return callT('sigmoid', this);
  }
  tanh(): Tensor {
    return callT('tanh', this);
  }
  relu(): Tensor {
    return callT('relu', this);
  }
  clamp(min?: number, max?: number): Tensor {
    return callT('clamp', this, min ?? null, max ?? null);
  }
  isnan(): Tensor {
    return callT('isnan', this);
  }
  isfinite(): Tensor {
    return callT('isfinite', this);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return callT('masked_fill', this, mask, value);
  }
  lerp(end: Tensor, weight: number): Tensor {
    return callT('lerp', this, end, weight);
  }
  matmul(o: Tensor): Tensor {
    return callT('matmul', this, o);
  }

  // ---- in place (no autograd history: call inside noGrad for parameters) ----
  add_(o: Tensor | number, alpha?: number): this {
    call('add_', this, o, alpha);
    return this;
  }
  sub_(o: Tensor | number, alpha?: number): this {
    call('sub_', this, o, alpha);
    return this;
  }
  mul_(o: Tensor | number): this {
    call('mul_', this, o);
    return this;
  }
  div_(o: Tensor | number): this {
    call('div_', this, o);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    call('addcmul_', this, a, b, value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    call('addcdiv_', this, a, b, value);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    call('lerp_', this, end, weight);
    return this;
  }
  copy_(src: Tensor): this {
    call('copy_', this, src);
    return this;
  }
  zero_(): this {
    call('zero_', this);
    return this;
  }
  fill_(v: number): this {
    call('fill_', this, v);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    call('clamp_', this, min ?? null, max ?? null);
    return this;
  }
  sqrt_(): this {
    call('sqrt_', this);
    return this;
  }
  uniform_(lo: number, hi: number): this {
    call('uniform_', this, lo, hi);
    return this;
  }
  normal_(mean: number, std: number): this {
    call('normal_', this, mean, std);
    return this;
  }

  // ---- reductions (dims omitted = all) ----
  sum(dims: number | number[] = [], keepdim = false): Tensor {
    return callT('sum', this, typeof dims === 'number' ? [dims] : dims, keepdim);
  }
  mean(dims: number | number[] = [], keepdim = false): Tensor {
    return callT('mean', this, typeof dims === 'number' ? [dims] : dims, keepdim);
  }
  var(dims: number | number[] = [], keepdim = false, unbiased = true): Tensor {
    return callT('var', this, typeof dims === 'number' ? [dims] : dims, keepdim, unbiased);
  }
  std(dims: number | number[] = [], keepdim = false, unbiased = true): Tensor {
    return callT('std', this, typeof dims === 'number' ? [dims] : dims, keepdim, unbiased);
  }
  amax(dims: number | number[] = [], keepdim = false): Tensor {
    return callT('amax', this, typeof dims === 'number' ? [dims] : dims, keepdim);
  }
  amin(dims: number | number[] = [], keepdim = false): Tensor {
    return callT('amin', this, typeof dims === 'number' ? [dims] : dims, keepdim);
  }
  /** Max along dim: [values, indices]. */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    return call('max_dim', this, dim, keepdim) as [Tensor, Tensor];
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    return call('min_dim', this, dim, keepdim) as [Tensor, Tensor];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return callT('argmax', this, dim ?? null, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return callT('argmin', this, dim ?? null, keepdim);
  }
  any(): Tensor {
    return callT('any', this);
  }
  all(): Tensor {
    return callT('all', this);
  }
  norm(): Tensor {
    return callT('norm', this);
  }
  cumsum(dim: number): Tensor {
    return callT('cumsum', this, dim);
  }
  countNonzero(): number {
    const c = callT('count_nonzero', this);
    try {
      return c.item();
    } finally {
      c.dispose();
    }
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return call('requires_grad', this) as boolean;
  }
  set requiresGrad(on: boolean) {
    call('set_requires_grad', this, on);
  }
  requiresGrad_(on = true): this {
    call('set_requires_grad', this, on);
    return this;
  }
  get isLeaf(): boolean {
    return call('is_leaf', this) as boolean;
  }
  /** The accumulated gradient (a new handle each call; dispose it when done), or null. */
  get grad(): Tensor | null {
    return call('grad', this) as Tensor | null;
  }
  setGrad(g: Tensor | null): void {
    call('set_grad', this, g);
  }
  retainGrad(): void {
    call('retain_grad', this);
  }
  backward(gradient?: Tensor, retainGraph?: boolean): void {
    call('backward', this, gradient ?? null, retainGraph ?? null);
  }
}
