/** Noise for stochastic steps: a caller's tensor, a caller's generator, or the scheduler's own generator. */
import { Generator, formatShape, type NormalSource, type Shape, type Tensor } from '@sdxs/tensor';

/**
 * `randn_tensor(shape, generator=...)`: `noise` if given (checked against `shape`), else a draw from
 * `generator`, else from `fallback()` (a scheduler's own, lazily seeded generator).
 */
export function drawNoise(
  what: string,
  shape: Shape,
  noise: Tensor<'float32'> | undefined,
  generator: NormalSource | undefined,
  fallback: () => Generator,
): Tensor<'float32'> {
  if (noise !== undefined) {
    if (noise.shape.length !== shape.length || noise.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(`${what}: noise of shape ${formatShape(noise.shape)} for a sample of shape ${formatShape(shape)}`);
    }
    return noise;
  }
  return (generator ?? fallback()).randn(shape);
}

/** A holder for a scheduler's own generator, created on first use with PyTorch's default seed. */
export class LazyGenerator {
  private generator: Generator | undefined;
  readonly get = (): Generator => (this.generator ??= new Generator());
}
