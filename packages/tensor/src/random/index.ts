import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Generator } from './generator.js';
import type { Seed } from './seed.js';

export { DEFAULT_SEED, Generator } from './generator.js';
export { GeneratorList, type NormalSource } from './generator-list.js';
export { toSeed, type Seed } from './seed.js';

/** Options of `randn`: a generator to draw from, or a seed for a fresh one (not both). */
export interface RandnOptions {
  seed?: Seed;
  generator?: Generator;
}

/**
 * `torch.randn(shape, generator=...)` on the CPU, bit for bit: with `generator` it continues that
 * generator's stream; with `seed` it draws from a fresh generator seeded with it; with neither,
 * from a fresh generator with torch's default seed (deterministic, unlike torch's global one).
 *
 * @example
 * const noise = randn([1, 4, 64, 64], { seed: 0 }); // same numbers as torch.Generator().manual_seed(0)
 */
export function randn(shape: Shape, options: RandnOptions = {}): Tensor<'float32'> {
  const { seed, generator } = options;
  if (generator !== undefined && seed !== undefined) {
    throw new TypeError('randn: pass either a seed or a generator, not both');
  }
  return (generator ?? (seed === undefined ? new Generator() : new Generator(seed))).randn(shape);
}
