/**
 * PyTorch's scalar normal path, taken by float32 tensors under 16 elements:
 * `at::normal_distribution<double>` per element (aten/src/ATen/core/DistributionsHelper.h),
 * Box–Muller in float64 with the second value of each pair cached in the generator.
 */

import type { MT19937 } from './mt19937.js';

/** Where the generator keeps Box–Muller's spare value (`next_double_normal_sample`). */
export interface DoubleNormalCache {
  nextDoubleNormal: number | null;
}

/** `uniform_real_distribution<double>(0, 1)`: 53 bits of `random64()`, whose high word is drawn first. */
function uniform53(engine: MT19937): number {
  const hi = engine.nextUint32();
  const lo = engine.nextUint32();
  return ((hi & 0x1fffff) * 4294967296 + lo) * 1.1102230246251565e-16; // 2^-53, exact
}

/**
 * One `normal_distribution<double>(0, 1)` sample. Math.log1p/sin/cos stand in for glibc's: V8's are
 * fdlibm ports within an ulp of them, and the float32 cast hides float64 ulps but for ~2^-29 of draws.
 */
export function normalDouble(engine: MT19937, cache: DoubleNormalCache): number {
  const cached = cache.nextDoubleNormal;
  if (cached !== null) {
    cache.nextDoubleNormal = null;
    return cached * 1 + 0; // transformation::normal(ret, mean = 0, std = 1)
  }
  const u1 = uniform53(engine);
  const u2 = uniform53(engine);
  const r = Math.sqrt(-2 * Math.log1p(-u2));
  const theta = 2 * Math.PI * u1;
  cache.nextDoubleNormal = r * Math.sin(theta);
  return r * Math.cos(theta) * 1 + 0;
}

/** Fills `data` element by element from the scalar path, each value cast to float32. */
export function normalFillScalar(data: Float32Array, engine: MT19937, cache: DoubleNormalCache): void {
  for (let i = 0; i < data.length; i++) data[i] = normalDouble(engine, cache);
}
