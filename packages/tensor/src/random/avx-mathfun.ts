/**
 * PyTorch's `log256_ps` and `sincos256_ps` (aten/src/ATen/native/cpu/avx_mathfun.h, Giovanni
 * Garberoglio's AVX port of Julien Pommier's sse_mathfun: the Cephes float polynomials), emulated
 * bit for bit over arrays of lanes. Every step rounds to float32 like the instruction it stands for.
 *
 * PyTorch builds this header with GCC, `-mavx2 -mfma` and GCC's default `-ffp-contract=fast`, so a
 * multiply whose only uses are additions becomes a fused multiply-add; `fmaf` marks each place that
 * happens. Which products fuse was read off the source (GCC fuses a product into the add or
 * subtract that consumes it; when both operands of an add are products, the earlier one fuses) and
 * checked against torch's output: unfusing any of them changes some of 8 million torch.randn
 * values, except `j * DP3`, kept fused by the same rule. Both functions also agree bit for bit with
 * the header compiled by GCC 12 on all 2^24 arguments Box–Muller can produce, plus random and
 * special ones. Where the product is exact in float32 (`z * 0.5`, `e * q2`, `j * DP1`, `j * DP2`)
 * fusing changes nothing and a plain `Math.fround(p + c)` is used: a float32 sum computed in
 * float64 and rounded once is correctly rounded.
 *
 * Why passes over arrays: each lane is a long chain of dependent roundings, so computing one lane
 * at a time is bound by latency. Loops that each advance every lane by a step or two keep many
 * independent lanes in flight (about 3x faster in V8). Each pass below is one such group of
 * "vector instructions"; arrays named like the original's registers hold the lanes in between.
 */

import { fmaf } from './fma.js';

/** The most lanes one call may process (the size of the scratch registers). */
export const MAX_LANES = 512;

// Scratch "registers", one element per lane. Float32Array stores round to float32 exactly as the
// values already are; the Int32Array view reinterprets bits like `_mm256_castps_si256`.
const regX = new Float32Array(MAX_LANES);
const regXBits = new Int32Array(regX.buffer);
const regE = new Float32Array(MAX_LANES);
const regY = new Float32Array(MAX_LANES);
const regY2 = new Float32Array(MAX_LANES);
const regZ = new Float32Array(MAX_LANES);
const regJ = new Int32Array(MAX_LANES);
const pick = new Float64Array(3); // [+0, y, y2]: the sine/cosine select of `sincosPs`

function checkLanes(n: number): void {
  if (!(n >= 0 && n <= MAX_LANES)) throw new RangeError(`lane count ${n} is outside 0 .. ${MAX_LANES}`);
}

/**
 * `out[i] = log(x[i])` for i < n (n <= MAX_LANES; `out` may be `x`), each as one lane of
 * `log256_ps`, quirks included: NaN for x <= 0, arguments below the smallest normal float (and NaN)
 * clamped to it, a finite value for +Infinity.
 */
export function logPs(x: Float32Array, out: Float32Array, n: number): void {
  checkLanes(n);
  const SQRTHF = Math.fround(0.707106781186547524);
  const P0 = Math.fround(7.0376836292e-2);
  const P1 = Math.fround(-1.151461031e-1);
  const P2 = Math.fround(1.167699874e-1);
  const P3 = Math.fround(-1.2420140846e-1);
  const P4 = Math.fround(1.4249322787e-1);
  const P5 = Math.fround(-1.6668057665e-1);
  const P6 = Math.fround(2.0000714765e-1);
  const P7 = Math.fround(-2.4999993993e-1);
  const P8 = Math.fround(3.3333331174e-1);
  const Q1 = Math.fround(-2.1219444e-4);
  const Q2 = Math.fround(0.693359375);
  const MIN_NORM = 1.1754943508222875e-38;

  // Split x = m * 2^e with m in [0.5, 1), then shift m below sqrt(1/2) up by one octave.
  // The comparison is done on the mantissa bits, as arithmetic, because a 50/50 branch on random
  // data costs more than the rest of the step.
  const SQRTHF_MANTISSA = 0x3504f3; // mantissa field of SQRTHF (0x3f3504f3)
  for (let i = 0; i < n; i++) {
    const x0 = x[i]!;
    regX[i] = x0 >= MIN_NORM ? x0 : MIN_NORM; // _mm256_max_ps(x, min_norm): NaN gives min_norm
    const bits = regXBits[i]!;
    // below = -1 if m < SQRTHF else 0 (same exponent, so compare mantissas)
    const below = ((bits & 0x7fffff) - SQRTHF_MANTISSA) >> 31;
    // if (m < SQRTHF) { e -= 1; m = m + m - 1 } else { m = m - 1 }, branch-free in the original
    const e = (bits >>> 23) - 127 + 1 + below; // small integers: exact in float32
    regXBits[i] = (bits & ~0x7f800000) | 0x3f000000; // keep the mantissa, exponent of 0.5
    const m0 = regX[i]!;
    const m = Math.fround(Math.fround(m0 - 1) + m0 * -below); // m0 * 0 is +0, as the AND mask gives
    regX[i] = m;
    // x <= 0 gives NaN: the original ORs in an all-ones mask (not for NaN input, which the max
    // above turned into min_norm); a NaN here propagates. A separate store, not `cond ? m : NaN`:
    // V8 boxes every value that meets a NaN literal.
    if (x0 <= 0) regX[i] = NaN;
    regE[i] = e;
    regY[i] = fmaf(P0, m, P1);
  }
  // Horner steps, two per pass.
  for (let i = 0; i < n; i++) {
    const m = regX[i]!;
    regY[i] = fmaf(fmaf(regY[i]!, m, P2), m, P3);
  }
  for (let i = 0; i < n; i++) {
    const m = regX[i]!;
    regY[i] = fmaf(fmaf(regY[i]!, m, P4), m, P5);
  }
  for (let i = 0; i < n; i++) {
    const m = regX[i]!;
    regY[i] = fmaf(fmaf(regY[i]!, m, P6), m, P7);
  }
  for (let i = 0; i < n; i++) {
    const m = regX[i]!;
    regY[i] = Math.fround(fmaf(regY[i]!, m, P8) * m);
  }
  // log = m + y z + e q1 - z/2 + e q2
  for (let i = 0; i < n; i++) {
    const m = regX[i]!;
    const e = regE[i]!;
    const z = Math.fround(m * m);
    let y = fmaf(regY[i]!, z, Math.fround(e * Q1)); // y * z + e * q1: the first product fuses
    y = Math.fround(y - z * 0.5);
    out[i] = Math.fround(Math.fround(m + y) + e * Q2);
  }
}

/**
 * `sin[i], cos[i] = sin(x[i]), cos(x[i])` for i < n (n <= MAX_LANES; either may be `x`), each as
 * one lane of `sincos256_ps` (bit for bit for finite x; NaN payloads are not reproduced). Accurate
 * for |x| < 8192 like the original; the Box–Muller angle is in [0, 2pi).
 */
export function sincosPs(x: Float32Array, sin: Float32Array, cos: Float32Array, n: number): void {
  checkLanes(n);
  const FOPI = Math.fround(1.27323954473516); // 4 / pi
  const MINUS_DP1 = Math.fround(-0.78515625);
  const MINUS_DP2 = Math.fround(-2.4187564849853515625e-4);
  const MINUS_DP3 = Math.fround(-3.77489497744594108e-8);
  const SIN_P0 = Math.fround(-1.9515295891e-4);
  const SIN_P1 = Math.fround(8.3321608736e-3);
  const SIN_P2 = Math.fround(-1.6666654611e-1);
  const COS_P0 = Math.fround(2.443315711809948e-5);
  const COS_P1 = Math.fround(-1.388731625493765e-3);
  const COS_P2 = Math.fround(4.166664568298827e-2);

  // Octant j = (int(|x| * 4/pi) + 1) & ~1 and the extended-precision reduction
  // v = ((|x| - j DP1) - j DP2) - j DP3, each step one FMA (the first two products are exact).
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[i]!);
    const q = Math.fround(v * FOPI);
    // _mm256_cvttps_epi32: truncation, and 0x80000000 for NaN or out of range
    const j = ((q < 2147483648 ? q | 0 : -2147483648) + 1) & ~1;
    regJ[i] = j;
    const r = fmaf(j, MINUS_DP3, Math.fround(Math.fround(v + j * MINUS_DP1) + j * MINUS_DP2));
    regX[i] = r;
    regZ[i] = Math.fround(r * r);
  }
  // First Horner steps of both polynomials.
  for (let i = 0; i < n; i++) {
    const z = regZ[i]!;
    regY[i] = fmaf(fmaf(COS_P0, z, COS_P1), z, COS_P2);
    regY2[i] = fmaf(fmaf(SIN_P0, z, SIN_P1), z, SIN_P2);
  }
  for (let i = 0; i < n; i++) {
    const z = regZ[i]!;
    const v = regX[i]!;
    // cos polynomial on [0, pi/4]: 1 - z/2 + z^2 P(z); sin polynomial: v + v z Q(z)
    const y = Math.fround(fmaf(Math.fround(regY[i]! * z), z, -(z * 0.5)) + 1);
    const y2 = fmaf(Math.fround(regY2[i]! * z), v, v);
    // The original selects with AND masks (a masked-out lane is +0), recombines with add/sub and
    // flips signs by XOR. The same arithmetic here, without branches (they would be 50/50 on
    // random angles): the selects index a three-slot array, the flips multiply by +-1 (exact).
    const j = regJ[i]!;
    const k = (j >> 1) & 1; // 0 where the sine polynomial gives the sine
    pick[1] = y;
    pick[2] = y2;
    const ysin1 = pick[k]!; // k ? y : +0
    const ysin2 = pick[2 - 2 * k]!; // k ? +0 : y2
    const s = ysin1 + ysin2;
    const c = y - ysin1 + (y2 - ysin2);
    const x0 = x[i]!;
    const sinFlip = ((j >> 2) & 1) ^ (x0 < 0 || Object.is(x0, -0) ? 1 : 0);
    const cosFlip = (~(j - 2) >> 2) & 1;
    sin[i] = s * (1 - 2 * sinFlip);
    cos[i] = c * (1 - 2 * cosFlip);
  }
}
