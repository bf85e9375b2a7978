// The one table of element types: byte size and the typed array that holds each, for the engine's
// tensors (DType), the image formats' voxels (VoxelType) and safetensors' codes alike. float16 and
// bfloat16 travel as their raw 16-bit patterns in a Uint16Array; bool as bytes.

export type ElementType =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'bool';

export type ElementArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface ArrayConstructorOf {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ElementArray;
  new (length: number): ElementArray;
}

export interface ElementInfo {
  bytes: number;
  array: ArrayConstructorOf;
  floating: boolean;
  /** The dtype code in safetensors headers. */
  safetensors: string;
}

export const ELEMENT_TYPES: Readonly<Record<ElementType, ElementInfo>> = {
  uint8: { bytes: 1, array: Uint8Array, floating: false, safetensors: 'U8' },
  int8: { bytes: 1, array: Int8Array, floating: false, safetensors: 'I8' },
  int16: { bytes: 2, array: Int16Array, floating: false, safetensors: 'I16' },
  uint16: { bytes: 2, array: Uint16Array, floating: false, safetensors: 'U16' },
  int32: { bytes: 4, array: Int32Array, floating: false, safetensors: 'I32' },
  uint32: { bytes: 4, array: Uint32Array, floating: false, safetensors: 'U32' },
  int64: { bytes: 8, array: BigInt64Array, floating: false, safetensors: 'I64' },
  uint64: { bytes: 8, array: BigUint64Array, floating: false, safetensors: 'U64' },
  float16: { bytes: 2, array: Uint16Array, floating: true, safetensors: 'F16' },
  bfloat16: { bytes: 2, array: Uint16Array, floating: true, safetensors: 'BF16' },
  float32: { bytes: 4, array: Float32Array, floating: true, safetensors: 'F32' },
  float64: { bytes: 8, array: Float64Array, floating: true, safetensors: 'F64' },
  bool: { bytes: 1, array: Uint8Array, floating: false, safetensors: 'BOOL' },
};

/** The natural element type of a typed array (Uint8Array → uint8, Uint16Array → uint16). */
export function elementTypeOfArray(a: ArrayBufferView): ElementType | undefined {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof BigUint64Array) return 'uint64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return undefined;
}
