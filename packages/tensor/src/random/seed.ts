/**
 * Seeds accepted by `Generator`: integers in [-2^63, 2^64 - 1], like `torch.Generator.manual_seed`, which casts
 * a negative (int64) seed to uint64 (torch/csrc/Generator.cpp: `manualSeed(gen, (uint64_t)seed)`): −1 is
 * 2^64 − 1, so `--seed -1` gives PyTorch's noise for `manual_seed(-1)`.
 */
export type Seed = number | bigint;

const MAX_SEED = 0xffffffffffffffffn;
const MIN_SEED = -(2n ** 63n);

/**
 * Checks a seed and returns it as the uint64 torch seeds its generator with. Numbers must be safe integers
 * (larger ones may already have lost digits; pass a bigint).
 *
 * @example
 * toSeed(42);  // 42n
 * toSeed(-1);  // 18446744073709551615n, as torch.Generator().manual_seed(-1).initial_seed()
 */
export function toSeed(seed: Seed): bigint {
  if (typeof seed === 'bigint') {
    if (seed < MIN_SEED || seed > MAX_SEED) throw new RangeError(`seed ${seed} is outside -2^63 .. 2^64 - 1 (torch's manual_seed range)`);
    return seed < 0n ? seed + MAX_SEED + 1n : seed;
  }
  if (typeof seed !== 'number') throw new TypeError(`seed must be a number or a bigint, got ${typeof seed}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} is not an integer`);
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed ${seed} is beyond ±(2^53 - 1) and may have lost digits; pass it as a bigint`);
  }
  return toSeed(BigInt(seed));
}
