/**
 * Sigma schedules shared by the Euler and DPM-Solver schedulers, in float64 as diffusers computes them with
 * NumPy: `_convert_to_karras`, `_convert_to_exponential` and `_sigma_to_t`
 * (diffusers/schedulers/scheduling_euler_discrete.py).
 */
import { npLinspace } from './numpy.js';

/**
 * Karras et al. (2022) noise levels: `(max^(1/ρ) + ramp · (min^(1/ρ) − max^(1/ρ)))^ρ` with ρ = 7, from
 * `sigmaMax` down to `sigmaMin`. `Math.pow` and glibc's `pow` can disagree in the last float64 bit (rarely),
 * which the float32 cast of the final sigmas almost always hides.
 *
 * @example
 * karrasSigmas(0.0292, 14.6146, 4); // 14.6146 … 0.0292, denser near the small end
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  const rho = 7.0;
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, numInferenceSteps).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

/** `np.exp(np.linspace(log(sigmaMax), log(sigmaMin), n))`: equal ratios between consecutive sigmas. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps).map(Math.exp);
}

/**
 * diffusers' `_sigma_to_t`: the fractional training timestep of `sigma`, interpolating linearly in log sigma
 * between the two neighbouring entries of `logSigmas` (ascending with t).
 *
 * `logSigmas` is `np.log` of a float32 array in diffusers, which NumPy evaluates with SIMD float32 code whose
 * last bits depend on the CPU (AVX2 vs AVX-512); here it is the correctly rounded float32 log. Fractional
 * timesteps (Euler with Karras sigmas) can therefore differ from one diffusers install in their last bits.
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // np.cumsum(dists >= 0).argmax(): the last index with logSigmas[i] <= logSigma, or 0 if there is none.
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const high = low + 1;
  const lo = logSigmas[low]!;
  const hi = logSigmas[high]!;
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * high;
}
