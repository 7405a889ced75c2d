import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { bfloat16ToFloat32, float32ToBfloat16 } from './bfloat16.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

/** The floating-point dtypes `castTensor` converts between. */
export type CastFloatDType = Extract<DType, 'float32' | 'float16' | 'bfloat16'>;

// Half <-> bfloat16 goes through float32 in blocks: widening is exact, so the only rounding is the
// final narrowing, and the scratch stays small however large the tensor.
const BLOCK = 1 << 16;

function isTensorOf<D extends DType>(t: Tensor, dtype: D): t is Tensor<D> {
  return t.dtype === dtype;
}

function toFloat32(t: Tensor): Float32Array {
  if (isTensorOf(t, 'float32')) return t.data.slice();
  if (isTensorOf(t, 'float16')) return float16ToFloat32(t.data);
  if (isTensorOf(t, 'bfloat16')) return bfloat16ToFloat32(t.data);
  throw new TypeError(`castTensor converts float32, float16 and bfloat16 tensors, not ${t.dtype}`);
}

function narrowHalf(t: Tensor, narrow: (src: Float32Array, dst: Uint16Array) => Uint16Array): Uint16Array {
  if (isTensorOf(t, 'float32')) return narrow(t.data, new Uint16Array(t.size));
  const out = new Uint16Array(t.size);
  if (isTensorOf(t, 'float16') || isTensorOf(t, 'bfloat16')) {
    const widen = t.dtype === 'float16' ? float16ToFloat32 : bfloat16ToFloat32;
    const scratch = new Float32Array(Math.min(BLOCK, t.size));
    for (let start = 0; start < t.size; start += BLOCK) {
      const end = Math.min(start + BLOCK, t.size);
      const wide = widen(t.data.subarray(start, end), scratch.subarray(0, end - start));
      narrow(wide, out.subarray(start, end));
    }
    return out;
  }
  throw new TypeError(`castTensor converts float32, float16 and bfloat16 tensors, not ${t.dtype}`);
}

/**
 * Convert a float32/float16/bfloat16 tensor to another of those dtypes, rounding to nearest even
 * when narrowing. Returns `t` itself when it already has `dtype` (like torch's `Tensor.to`).
 *
 * @example
 * const half = castTensor(new Tensor('float32', [2], new Float32Array([1, 0.1])), 'float16');
 * half.data; // Uint16Array [0x3c00, 0x2e66]
 */
export function castTensor<D extends CastFloatDType>(t: Tensor, dtype: D): Tensor<D> {
  if (isTensorOf(t, dtype)) return t;
  const convert: { [K in CastFloatDType]: () => Tensor<K> } = {
    float32: () => new Tensor('float32', t.shape, toFloat32(t)),
    float16: () => new Tensor('float16', t.shape, narrowHalf(t, float32ToFloat16)),
    bfloat16: () => new Tensor('bfloat16', t.shape, narrowHalf(t, float32ToBfloat16)),
  };
  if (!Object.hasOwn(convert, dtype)) throw new TypeError(`castTensor converts to float32, float16 or bfloat16, not ${String(dtype)}`);
  return convert[dtype]();
}
