/** Seeds accepted by `Generator`: integers in [0, 2^64 - 1], like `torch.Generator.manual_seed`. */
export type Seed = number | bigint;

const MAX_SEED = 0xffffffffffffffffn;

/**
 * Checks a seed and returns it as a bigint. Numbers must be safe integers (larger ones may already
 * have lost digits; pass a bigint). Negative seeds are refused rather than wrapped modulo 2^64 as
 * torch does, so that a sign slip is an error, not a different image.
 */
export function toSeed(seed: Seed): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed > MAX_SEED) throw new RangeError(`seed ${seed} is outside 0 .. 2^64 - 1`);
    return seed;
  }
  if (typeof seed !== 'number') throw new TypeError(`seed must be a number or a bigint, got ${typeof seed}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} is not an integer`);
  if (seed < 0) throw new RangeError(`seed ${seed} is negative; seeds are 0 .. 2^64 - 1`);
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed ${seed} is above 2^53 - 1 and may have lost digits; pass it as a bigint`);
  }
  return BigInt(seed);
}
