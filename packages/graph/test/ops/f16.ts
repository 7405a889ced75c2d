// Local float32 <-> float16 conversion for the op tests, written independently of the graph package's
// _half.ts (which it checks against ORT) and standing in until @sdxs/tensor exports its half helpers.
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
import { Tensor } from '@sdxs/tensor';

export const F16_RTOL = 2 ** -10;
export const F16_ATOL = 2 ** -14;

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The f16 bit pattern nearest to `v` (ties to even), by plain float64 arithmetic. */
export function f16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (may round up to the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // log2 may round up just below a power of two
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a / 2 ** (e - 10));
  if (m === 2048) {
    m = 1024;
    e++;
  }
  return sign | ((e + 15) << 10) | (m - 1024);
}

/** The value of f16 bits. */
export function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1024 + m) * 2 ** (e - 25);
}

/** A float32 tensor as float16. */
export function toF16(t: Tensor<'float32'>): Tensor<'float16'> {
  return new Tensor('float16', t.shape, Uint16Array.from(t.data, f16Bits));
}

/** A float32 tensor with every value rounded through f16 (what the reference should see). */
export function roundedF16(t: Tensor<'float32'>): Tensor<'float32'> {
  return new Tensor('float32', t.shape, Float32Array.from(t.data, (v) => f16Value(f16Bits(v))));
}

/** A float16 result widened to float32 for comparison; other tensors pass through. */
export function widen(t: Tensor | undefined): Tensor | undefined {
  if (!t || t.dtype !== 'float16' || !(t.data instanceof Uint16Array)) return t;
  return new Tensor('float32', t.shape, Float32Array.from(t.data, f16Value));
}
