import type { Generator } from '@sdxs/tensor';

/**
 * `count` uniforms in (0, 1) from the stage's one torch-compatible generator: normal draws through the normal CDF.
 * A stage keeps one random stream (checkpointed with its weights, so resume is exact) instead of a second RNG.
 */
export function uniforms(generator: Generator, count: number): Float32Array {
  return generator.randn([count]).data.map((v) => 0.5 * (1 + erf(v / Math.SQRT2)));
}

/** erf, Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough to turn normal draws into uniform ones. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
