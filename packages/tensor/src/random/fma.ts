/**
 * A float32 fused multiply-add, emulated exactly with float64 arithmetic: the result is
 * `a * b + c` rounded once to float32, as `vfmadd` computes it on x86.
 *
 * Why this is exact: the product of two float32 values has at most 48 significant bits, so
 * `a * b` is exact in float64. The sum `p + c` is then rounded to float64 and again to float32,
 * and that double rounding is wrong only when the float64 sum lands exactly on a float32
 * midpoint while the exact sum does not (a float32 midpoint is itself a float64, so the exact sum
 * cannot be on the other side of any other midpoint). That case is detected and repaired with the
 * error term of Knuth's TwoSum.
 *
 * Inputs must be float32 values (results of `Math.fround`); the product must stay clear of
 * float64 underflow, which holds for every float32 pair.
 *
 * @example
 * fmaf(Math.fround(0.1), Math.fround(3), Math.fround(-0.3)); // float32 result of one rounding
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  const d = s - r; // exact: r is within one float32 ulp of s
  // `t` mirrors r through s. When s is a float32 midpoint, t is the other float32 neighbour of s
  // (a float32); otherwise t lies strictly between r and that neighbour and is no float32.
  const t = r + 2 * d;
  return d === 0 || Math.fround(t) !== t ? r : breakTie(p, c, s, r, t);
}

/**
 * The rare case (about one sum in 2^29) of a float64 sum `s = p + c` exactly on a float32 midpoint
 * between `r` and `t`: the exact sum is s + e (TwoSum), and e picks the side; e = 0 is a true tie,
 * which `Math.fround` already broke to even. Kept out of `fmaf` so that stays small enough to inline.
 */
function breakTie(p: number, c: number, s: number, r: number, t: number): number {
  const bb = s - p;
  const e = (p - (s - bb)) + (c - bb);
  if (e === 0) return r;
  if (e > 0) return r > t ? r : t;
  return r < t ? r : t;
}
