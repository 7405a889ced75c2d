// A float32 fused multiply-add for JavaScript, to reproduce PyTorch CPU kernels whose compilers contract
// `a * b + c` into one FMA instruction (GCC does so in the AVX2/AVX-512 kernels of x86-64 builds).

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float32 adjacent to float32 `r` in the direction of `toward` (which differs from `r`). */
function neighbor(r: number, toward: number): number {
  F32[0] = r;
  if (r === 0) U32[0] = toward > 0 ? 1 : 0x80000001;
  else if (toward > r === r > 0) U32[0] = U32[0]! + 1;
  else U32[0] = U32[0]! - 1;
  return F32[0]!;
}

/**
 * `a * b + c` rounded once to float32, for float32 `a`, `b`, `c`. The product of two float32s is exact
 * in float64; the sum is split into its float64 rounding `s` and exact error `e` (Knuth's TwoSum), and
 * the error only matters when `s` sits exactly halfway between two float32s.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bv = s - p;
  const e = p - (s - bv) + (c - bv);
  const r = Math.fround(s);
  if (e === 0 || r === s) return r;
  const other = neighbor(r, s);
  if (Math.abs(other - s) !== Math.abs(s - r)) return r;
  // A tie in float64 that the exact sum breaks: go the way the error points.
  return e > 0 ? Math.max(r, other) : Math.min(r, other);
}
