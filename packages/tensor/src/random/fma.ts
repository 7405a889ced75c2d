/**
 * A float32 fused multiply-add, emulated exactly with float64 arithmetic: the result is
 * `a * b + c` rounded once to float32, as `vfmadd` computes it on x86.
 *
 * Why this is exact: the product of two float32 values has at most 48 significant bits, so
 * `a * b` is exact in float64. The sum `p + c` is then rounded to float64 and again to float32,
 * and that double rounding goes wrong only when the float64 sum lands exactly on a float32
 * midpoint while the exact sum does not (a float32 midpoint is itself a float64, so no other
 * midpoint can separate the two). That case is detected and settled with Knuth's TwoSum.
 *
 * Inputs must be float32 values (results of `Math.fround`).
 *
 * @example
 * fmaf(Math.fround(0.1), 3, Math.fround(-0.3)); // one rounding, like the hardware instruction
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fround(s);
  // t = r + 2 (s - r) mirrors r through s (exactly, as argued at `tieBreak`). When s is a float32
  // midpoint, t is the float32 on its other side; otherwise t == r (s exact) or t is no float32.
  const t = 2 * s - r;
  if (fround(t) !== t || t === r) return r;
  tieBreak(p, c);
  return tieResult[0]!;
}

// Kept small: V8 inlines only so much bytecode into one function, and every `fmaf` left as a call
// would box its result. For the same reason the tie result travels through a typed array rather
// than a return value (a call returns numbers boxed).
const fround = Math.fround;
const tieResult = new Float64Array(1);

/**
 * s = p + c (rounded to float64) sits exactly on a float32 midpoint: about once in 2^29 random
 * sums, far more often after cancellation, where s is exact. The exact sum is s + e (TwoSum):
 * e picks the side, and e = 0 is a true tie that `Math.fround` already broke to even.
 *
 * (2s - r is exact in `fmaf`: for a midpoint it is a float32; otherwise its exact value is at
 * least 2 float64 ulps of s from any float32, so rounding cannot turn it into one.)
 */
function tieBreak(p: number, c: number): void {
  const s = p + c;
  const r = fround(s);
  const t = 2 * s - r;
  const bb = s - p;
  const e = p - (s - bb) + (c - bb);
  tieResult[0] = e === 0 || e > 0 === r > t ? r : t;
}
