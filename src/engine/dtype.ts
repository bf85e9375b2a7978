// The engine's element types (a subset of src/common/elementTypes.ts) and devices.
import { ELEMENT_TYPES, elementTypeOfArray } from '../common/elementTypes.js';

export type DType =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** 'cpu', 'cuda', 'cuda:1', ... */
export type Device = string;

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** Every dtype a tensor can have. */
export const TENSOR_DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];

/** The default dtype of a typed array's data (float16 and bfloat16 must be named: both are Uint16Array). */
export function dtypeOfArray(a: ArrayBufferView): DType {
  const t = elementTypeOfArray(a);
  if (t && (TENSOR_DTYPES as readonly string[]).includes(t)) return t as DType;
  throw new Error(`no default dtype for ${a.constructor.name}; pass the dtype explicitly`);
}

export function isFloating(d: DType): boolean {
  return ELEMENT_TYPES[d].floating;
}

export function bytesPer(d: DType): number {
  return ELEMENT_TYPES[d].bytes;
}
