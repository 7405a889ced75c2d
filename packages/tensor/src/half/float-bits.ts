// Scalar bit views shared by the float16 and bfloat16 scalar conversions.

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Word = new Uint32Array(f32.buffer);
// The high word of a float64 (sign, exponent, top of the mantissa) is word 1 on little-endian hosts.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The high 32 bits of a float64: sign, 11 exponent bits, the top 20 mantissa bits. */
export function float64HighWord(value: number): number {
  f64[0] = value;
  return f64Words[HI]!;
}

/** The number whose float32 encoding is `bits`. */
export function float32FromBits(bits: number): number {
  f32Word[0] = bits;
  return f32[0]!;
}

/** Round a non-negative number to the nearest integer, ties to even (`Math.round` ties upward). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}
