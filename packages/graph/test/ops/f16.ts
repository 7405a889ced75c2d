// float32 <-> float16 for the op tests, through @sdxs/tensor's half conversion (tested exhaustively there,
// and against ORT's Cast in cast.test.ts).
//
// What the f16 tests exercise: onnxruntime-node 1.30's CPU EP has native f16 kernels only for data movement
// (Concat, Split, Slice, Gather, Expand, Reshape, Transpose...) and Clip, Max, Min. For every arithmetic op
// (Add..Pow, the unary math ops, MatMul, Gemm, Conv, Reduce*, Resize, Pad, Where, ArgMax) its
// InsertCastTransformer wraps the node in Casts to f32 and back (seen in the optimized model it saves),
// so those tests check the f16 graph end to end with f32 arithmetic and a single rounding to f16.
//
// f16 tolerance used across these tests: inputs are rounded to f16 *before* the reference sees them, so the
// only difference left is how the runtime rounds. One f16 ulp relative (2^-10, twice the final rounding
// error of 2^-11) plus an absolute 2^-14 (the smallest normal f16: below it results are subnormal and their
// ulp is absolute) covers a result computed in f32 and rounded once to f16. Ops that accumulate (MatMul,
// Conv, reductions) state their own bound beside the test.
import { castTensor, float16BitsToNumber, numberToFloat16Bits, Tensor } from '@sdxs/tensor';

export const F16_RTOL = 2 ** -10;
export const F16_ATOL = 2 ** -14;

/** The f16 bit pattern nearest to `v` (ties to even). */
export const f16Bits = numberToFloat16Bits;

/** The value of f16 bits. */
export const f16Value = float16BitsToNumber;

/** A float32 tensor as float16. */
export function toF16(t: Tensor<'float32'>): Tensor<'float16'> {
  return castTensor(t, 'float16');
}

/** A float32 tensor with every value rounded through f16 (what the reference should see). */
export function roundedF16(t: Tensor<'float32'>): Tensor<'float32'> {
  return castTensor(castTensor(t, 'float16'), 'float32');
}

/** A float16 result widened to float32 for comparison; other tensors pass through. */
export function widen(t: Tensor | undefined): Tensor | undefined {
  return t && t.dtype === 'float16' ? castTensor(t, 'float32') : t;
}
