/**
 * bfloat16 <-> float32 conversion. bfloat16 is the top half of a float32 (same 8-bit exponent, 7
 * mantissa bits), so widening is a shift and narrowing rounds away the low 16 bits, to nearest with
 * ties to even (as PyTorch's `c10::BFloat16` does). Overflow rounds to infinity; subnormals follow
 * from the shared exponent; -0 keeps its sign. NaNs keep their sign and leading payload bits and
 * always come out quiet (quiet bit set), so a NaN never rounds into an infinity.
 */

import { float32FromBits, float64HighWord, roundHalfEven } from './float-bits.js';

/** float32 bits of bfloat16 bits `b`; signalling NaNs (quiet bit clear) are quieted. */
function widen(b: number): number {
  const w = b << 16;
  return (w & 0x7fffffff) > 0x7f800000 ? w | 0x00400000 : w;
}

/**
 * bfloat16 bits of float32 bits `u`. Adding 0x7fff plus the lowest kept bit rounds the dropped half to
 * nearest even; a carry bumps the exponent (up to infinity) and never reaches the sign bit. NaNs skip
 * the rounding and gain the quiet bit.
 */
function narrow(u: number): number {
  return (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x0040 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
}

function checkDestination(srcLength: number, dstLength: number): void {
  if (dstLength !== srcLength) {
    throw new RangeError(`destination has ${dstLength} elements but the source has ${srcLength}`);
  }
}

/**
 * Widen bfloat16 bits to float32 (exact). Writes into `dst` when given (same length), else a new array.
 *
 * @example
 * bfloat16ToFloat32(new Uint16Array([0x3f80, 0xc000])); // Float32Array [1, -2]
 */
export function bfloat16ToFloat32(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = dst ?? new Float32Array(src.length);
  checkDestination(src.length, out.length);
  // Bit patterns go through an integer view: storing a NaN through a Float32Array may canonicalize it.
  const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
  const n = src.length;
  let i = 0;
  // Unrolled by hand: V8 does not unroll, and this halves the loop overhead per element.
  for (; i + 8 <= n; i += 8) {
    bits[i] = widen(src[i]!);
    bits[i + 1] = widen(src[i + 1]!);
    bits[i + 2] = widen(src[i + 2]!);
    bits[i + 3] = widen(src[i + 3]!);
    bits[i + 4] = widen(src[i + 4]!);
    bits[i + 5] = widen(src[i + 5]!);
    bits[i + 6] = widen(src[i + 6]!);
    bits[i + 7] = widen(src[i + 7]!);
  }
  for (; i < n; i++) bits[i] = widen(src[i]!);
  return out;
}

/**
 * Round float32 values to bfloat16 bits (nearest, ties to even). Writes into `dst` when given.
 *
 * @example
 * float32ToBfloat16(new Float32Array([1, 1 / 3])); // Uint16Array [0x3f80, 0x3eab]
 */
export function float32ToBfloat16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = dst ?? new Uint16Array(src.length);
  checkDestination(src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    out[i] = narrow(bits[i]!);
    out[i + 1] = narrow(bits[i + 1]!);
    out[i + 2] = narrow(bits[i + 2]!);
    out[i + 3] = narrow(bits[i + 3]!);
    out[i + 4] = narrow(bits[i + 4]!);
    out[i + 5] = narrow(bits[i + 5]!);
    out[i + 6] = narrow(bits[i + 6]!);
    out[i + 7] = narrow(bits[i + 7]!);
  }
  for (; i < n; i++) out[i] = narrow(bits[i]!);
  return out;
}

/** The number a bfloat16 bit pattern stands for. @example bfloat16BitsToNumber(0x3f80) // 1 */
export function bfloat16BitsToNumber(bits: number): number {
  return float32FromBits((bits & 0xffff) << 16);
}

/**
 * The bfloat16 bit pattern nearest to `value` (ties to even), rounding the float64 value once.
 * NaN gives the quiet NaN 0x7fc0 with its sign.
 *
 * @example numberToBfloat16Bits(1 / 3) // 0x3eab
 */
export function numberToBfloat16Bits(value: number): number {
  const hi = float64HighWord(value);
  const sign = (hi >>> 16) & 0x8000;
  if (Number.isNaN(value)) return sign | 0x7fc0;
  const a = Math.abs(value);
  const exponent = ((hi >>> 20) & 0x7ff) - 1023;
  if (exponent > 127) return sign | 0x7f80;
  // Subnormals are the multiples of 2^-133 below 2^-126; a rounded count of 128 is 0x0080, the
  // smallest normal, so the two encodings meet without a special case.
  if (exponent < -126) return sign | roundHalfEven(a * 2 ** 133);
  // Scale into [128, 256]; a rounded 256 carries into the exponent, and past 0x7f7f into infinity.
  const mantissa = roundHalfEven(a * 2 ** (7 - exponent));
  return sign | (((exponent + 127) << 7) + mantissa - 128);
}
