/**
 * Inference timestep spacings of arXiv 2305.08891 Table 2 ("linspace", "leading", "trailing"), as diffusers'
 * `set_timesteps` computes them with NumPy, and the step-index lookup the Euler-style schedulers share.
 */
import { f32 } from './float32.js';
import { npArange, npLinspace, roundHalfEven } from './numpy.js';

export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['linspace', 'leading', 'trailing'];

/** Throws unless `n` is a usable step count for a schedule of `numTrainTimesteps`. */
export function checkStepCount(what: string, n: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what}: num_inference_steps must be a positive integer, got ${n}`);
  if (n > numTrainTimesteps) {
    throw new RangeError(`${what}: num_inference_steps ${n} is larger than num_train_timesteps ${numTrainTimesteps}`);
  }
}

/**
 * Float32 timesteps of the Euler schedulers (`timesteps` is a float32 array there; "linspace" ones are
 * fractional): linspace `np.linspace(0, N-1, n, dtype=float32)[::-1]`; leading `arange(n) * (N // n)
 * [::-1] + steps_offset`; trailing `round(arange(N, 0, -N/n)) - 1`.
 *
 * @example
 * floatTimesteps('trailing', 1000, 1, 1); // [999]
 */
export function floatTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return npLinspace(0, numTrain - 1, n).map(f32).reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    return Array.from({ length: n }, (_, i) => f32((n - 1 - i) * ratio + stepsOffset));
  }
  return npArange(numTrain, 0, -numTrain / n).map((t) => f32(roundHalfEven(t) - 1));
}

/**
 * Integer timesteps of DDPM and DDIM: linspace `round(np.linspace(0, N-1, n))[::-1]`; leading and trailing
 * as in {@link floatTimesteps}.
 *
 * @example
 * integerTimesteps('leading', 1000, 4, 1); // [751, 501, 251, 1]
 */
export function integerTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return npLinspace(0, numTrain - 1, n).map(roundHalfEven).reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
  }
  return npArange(numTrain, 0, -numTrain / n).map((t) => roundHalfEven(t) - 1);
}

/**
 * diffusers' `index_for_timestep` of the Euler/LCM schedulers: the position of `timestep` in the schedule;
 * where it occurs twice, the second (so a run started mid-schedule does not skip a sigma).
 */
export function indexForTimestep(what: string, timesteps: readonly number[], timestep: number): number {
  const first = timesteps.indexOf(timestep);
  if (first < 0) {
    const range = timesteps.length === 0 ? 'empty' : `${timesteps.length} steps, ${timesteps[0]} … ${timesteps[timesteps.length - 1]}`;
    throw new RangeError(`${what}: timestep ${timestep} is not in the schedule (${range})`);
  }
  const second = timesteps.indexOf(timestep, first + 1);
  return second >= 0 ? second : first;
}
