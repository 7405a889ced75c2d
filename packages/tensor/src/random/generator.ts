import { shapeSize, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { MT19937 } from './mt19937.js';
import { normalFillAvx2 } from './normal-avx2.js';
import { normalFillScalar } from './normal-scalar.js';
import { toSeed, type Seed } from './seed.js';
import { decodeState, encodeState, type NormalCaches } from './state.js';

/** torch's `default_rng_seed_val`: the seed of a fresh `torch.Generator()`. */
export const DEFAULT_SEED = 67280421310721n;

/**
 * A random number generator that reproduces PyTorch's CPU generator (`torch.Generator()`): same
 * seeding, same Mersenne Twister stream, same state bytes, and `randn` equal bit for bit to
 * `torch.randn` in float32 on an x86-64 CPU with AVX2 (what most diffusers users run), so a seed
 * gives the same latents here as in a Python pipeline. (Torch builds without AVX2, such as on ARM,
 * take a libm-based path and draw slightly different numbers from the same seed.)
 *
 * @example
 * const g = new Generator(42);
 * const latents = g.randn([1, 4, 64, 64]); // == torch.randn([1,4,64,64], generator=torch.Generator().manual_seed(42))
 * const more = g.randn([16]);              // continues the stream like a second torch.randn call
 */
export class Generator {
  private readonly engine = new MT19937(DEFAULT_SEED);
  /**
   * torch's `next_double_normal_sample` (the Box–Muller spare of the scalar path) and
   * `next_float_normal_sample` (never filled by `randn`, kept so states round-trip).
   */
  private caches: NormalCaches = { nextDoubleNormal: null, nextFloatNormal: null };

  /** Seeds like `torch.Generator().manual_seed(seed)`; the default is torch's default seed. */
  constructor(seed: Seed = DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /** Reseeds (integers 0 .. 2^64 - 1; bigint above 2^53 - 1) and clears the cached normal. */
  manualSeed(seed: Seed): this {
    const s = toSeed(seed);
    this.engine.reseed(s);
    this.caches = { nextDoubleNormal: null, nextFloatNormal: null };
    return this;
  }

  /** The seed last given (torch's `initial_seed()`). */
  initialSeed(): bigint {
    return this.engine.seed;
  }

  /**
   * Standard normal float32 samples of the given shape, continuing this generator's stream exactly
   * like `torch.randn(shape, generator=g)`: 16 or more elements take torch's vectorised AVX2 path,
   * fewer take its scalar float64 path (which may leave a cached value for the next call).
   */
  randn(shape: Shape): Tensor<'float32'> {
    if (!Array.isArray(shape)) throw new TypeError('randn: shape must be an array of dimensions');
    const data = new Float32Array(shapeSize(shape));
    if (data.length >= 16) normalFillAvx2(data, this.engine);
    else normalFillScalar(data, this.engine, this.caches);
    return new Tensor('float32', shape, data);
  }

  /**
   * The full state as bytes, in the layout of torch's `Generator.get_state()` (5056 bytes), for
   * checkpoints; `setState` restores it exactly.
   */
  getState(): Uint8Array {
    return encodeState(this.engine, this.caches);
  }

  /** Restores a state from `getState` (or from torch's `get_state()`); throws on a malformed one. */
  setState(state: Uint8Array): this {
    this.caches = decodeState(state, this.engine);
    return this;
  }
}
