/**
 * IEEE 754 binary16 ("half", ONNX `float16`) <-> binary32 conversion. Half values travel as their raw
 * bits in a `Uint16Array` (see dtype.ts), so nothing here depends on `Float16Array`, which Node 20 lacks.
 *
 * Rounding is to nearest, ties to even; values at or above 65520 (halfway past the largest finite half,
 * 65504) become infinity; subnormals are converted exactly in both directions; -0 keeps its sign.
 * NaNs keep their sign and leading payload bits and always come out quiet (quiet bit set), in both
 * directions; setting the quiet bit also means a NaN can never narrow into an infinity by losing its
 * payload.
 */

import { float32FromBits, float64HighWord, roundHalfEven } from './float-bits.js';

// The float32 bit pattern of every half value (256 KiB), filled on first use. A lookup is the fastest
// widening a JS engine offers: one load per element, no branches on subnormals or NaNs. Keeping the
// table in a module constant lets the optimizer treat its address and length as known.
const WIDEN = new Uint32Array(65536);
let widenReady = false;

function float16WidenTable(): Uint32Array {
  if (widenReady) return WIDEN;
  const asFloat = new Float32Array(WIDEN.buffer);
  for (let h = 0; h < 65536; h++) {
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0x1f) {
      // Inf or NaN: set every exponent bit; NaNs also get the float32 quiet bit (0x00400000).
      WIDEN[h] = ((h & 0x8000) << 16) | 0x7f800000 | (mantissa << 13) | (mantissa === 0 ? 0 : 0x00400000);
    } else {
      // Finite halves (subnormals included) are exact in float64 and in float32, so the value itself
      // is the simplest correct source of the bits; writing -0 through the float view keeps its sign.
      const magnitude = exponent === 0 ? mantissa * 2 ** -24 : (1024 + mantissa) * 2 ** (exponent - 25);
      asFloat[h] = h & 0x8000 ? -magnitude : magnitude;
    }
  }
  widenReady = true;
  return WIDEN;
}

/**
 * Half bits of float32 bits `u`, rounded to nearest even. In the normal range the exponent is rebiased
 * (127 -> 15) and the 13 dropped bits are rounded by adding 0xfff plus the lowest kept bit; a carry out
 * of the mantissa bumps the exponent, which also turns 65520 and above into infinity (0x7c00). Kept
 * this small so that the loop can inline it; everything else goes to `narrowRare`.
 */
function narrow(u: number): number {
  const a = u & 0x7fffffff;
  if (a >= 0x38800000 && a < 0x47800000) return ((a - 0x37fff001 + ((a >>> 13) & 1)) >>> 13) | ((u >>> 16) & 0x8000);
  return narrowRare(u);
}

/** `narrow` outside the normal half range: subnormals, zeros, overflow, infinities and NaNs. */
function narrowRare(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a < 0x38800000) {
    // Below 2^-14 the result is a count of 2^-24 steps: shift the mantissa (with its implicit bit)
    // right by 126 - exponent, rounding to nearest even. Below 2^-25 that count rounds to 0.
    if (a < 0x33000000) return sign;
    const shift = 126 - (a >>> 23);
    const m = (a & 0x7fffff) | 0x800000;
    return ((m + (1 << (shift - 1)) - 1 + ((m >>> shift) & 1)) >>> shift) | sign;
  }
  // Overflow, infinity or NaN. NaNs keep their top payload bits and get the quiet bit.
  return (a > 0x7f800000 ? 0x7e00 | ((a >>> 13) & 0x3ff) : 0x7c00) | sign;
}

function checkDestination(srcLength: number, dstLength: number): void {
  if (dstLength !== srcLength) {
    throw new RangeError(`destination has ${dstLength} elements but the source has ${srcLength}`);
  }
}

/**
 * Widen half bits to float32 (exact). Writes into `dst` when given (same length), else a new array.
 *
 * @example
 * float16ToFloat32(new Uint16Array([0x3c00, 0xc000])); // Float32Array [1, -2]
 */
export function float16ToFloat32(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = dst ?? new Float32Array(src.length);
  checkDestination(src.length, out.length);
  float16WidenTable();
  // Write bit patterns, not numbers: storing a NaN through a Float32Array may canonicalize it.
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const n = src.length;
  let i = 0;
  // Unrolled by hand: V8 does not unroll, and this halves the loop overhead per element.
  for (; i + 8 <= n; i += 8) {
    bits[i] = WIDEN[src[i]!]!;
    bits[i + 1] = WIDEN[src[i + 1]!]!;
    bits[i + 2] = WIDEN[src[i + 2]!]!;
    bits[i + 3] = WIDEN[src[i + 3]!]!;
    bits[i + 4] = WIDEN[src[i + 4]!]!;
    bits[i + 5] = WIDEN[src[i + 5]!]!;
    bits[i + 6] = WIDEN[src[i + 6]!]!;
    bits[i + 7] = WIDEN[src[i + 7]!]!;
  }
  for (; i < n; i++) bits[i] = WIDEN[src[i]!]!;
  return out;
}

/**
 * Round float32 values to half bits (nearest, ties to even). Writes into `dst` when given.
 *
 * @example
 * float32ToFloat16(new Float32Array([1, 65520])); // Uint16Array [0x3c00, 0x7c00]
 */
export function float32ToFloat16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = dst ?? new Uint16Array(src.length);
  checkDestination(src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  let i = 0;
  // Unrolled by four, which measured best here (eight copies exceed what V8 inlines).
  for (; i + 4 <= n; i += 4) {
    out[i] = narrow(bits[i]!);
    out[i + 1] = narrow(bits[i + 1]!);
    out[i + 2] = narrow(bits[i + 2]!);
    out[i + 3] = narrow(bits[i + 3]!);
  }
  for (; i < n; i++) out[i] = narrow(bits[i]!);
  return out;
}

/** The number a half bit pattern stands for. @example float16BitsToNumber(0x3555) // 0.333251953125 */
export function float16BitsToNumber(bits: number): number {
  return float32FromBits(float16WidenTable()[bits & 0xffff]!);
}

/**
 * The half bit pattern nearest to `value` (ties to even), rounding the float64 value once (so a
 * double that is not a float32 is not rounded twice). NaN gives the quiet NaN 0x7e00 with its sign.
 *
 * @example numberToFloat16Bits(1 / 3) // 0x3555
 */
export function numberToFloat16Bits(value: number): number {
  const hi = float64HighWord(value);
  const sign = (hi >>> 16) & 0x8000;
  if (Number.isNaN(value)) return sign | 0x7e00;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00;
  const exponent = ((hi >>> 20) & 0x7ff) - 1023;
  // Subnormal halves are the multiples of 2^-24 below 2^-14; a rounded count of 1024 is 0x0400,
  // exactly the smallest normal, so the encodings meet without a special case.
  if (exponent < -14) return sign | roundHalfEven(a * 2 ** 24);
  // Scale the value into [1024, 2048]; a rounded 2048 carries into the exponent field.
  const mantissa = roundHalfEven(a * 2 ** (10 - exponent));
  return sign | (((exponent + 15) << 10) + mantissa - 1024);
}
