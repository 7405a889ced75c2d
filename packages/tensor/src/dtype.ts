/**
 * Element types shared by every sdxs package. Names follow onnxruntime-common's `Tensor.Type`
 * so a tensor crosses into a runtime without a lookup table.
 */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'bool';

/**
 * Storage per dtype. Half types are stored as their raw bits (`Uint16Array`), as onnxruntime-web does
 * where `Float16Array` is missing; `bool` is one byte per element (0 or 1), as in ONNX and safetensors.
 */
export interface DataTypeMap {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TensorData = DataTypeMap[DType];

export const DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'];

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function isFloatDType(dtype: DType): dtype is 'float32' | 'float16' | 'bfloat16' {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

/** A new zero-filled array of `size` elements for `dtype`. */
export function allocData<D extends DType>(dtype: D, size: number): DataTypeMap[D] {
  return typedArrayFrom(dtype, new ArrayBuffer(size * DTYPE_BYTES[dtype]), 0, size);
}

/**
 * A typed view of `length` elements of `dtype` over `buffer` at `byteOffset`.
 * The offset must be aligned to the element size (callers copy misaligned data first).
 */
export function typedArrayFrom<D extends DType>(
  dtype: D,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): DataTypeMap[D] {
  // Each branch returns exactly the array type the map names for that dtype.
  const make: { [K in DType]: () => DataTypeMap[K] } = {
    float32: () => new Float32Array(buffer, byteOffset, length),
    float16: () => new Uint16Array(buffer, byteOffset, length),
    bfloat16: () => new Uint16Array(buffer, byteOffset, length),
    int64: () => new BigInt64Array(buffer, byteOffset, length),
    int32: () => new Int32Array(buffer, byteOffset, length),
    uint8: () => new Uint8Array(buffer, byteOffset, length),
    bool: () => new Uint8Array(buffer, byteOffset, length),
  };
  return make[dtype]();
}
