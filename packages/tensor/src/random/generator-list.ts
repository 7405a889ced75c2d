/**
 * diffusers' list of generators (`generator=[torch.Generator().manual_seed(s) for s in seeds]`): `randn_tensor`
 * draws row i of the batch from generator i as its own `[1, …]` tensor, so image i has the same noise as a batch-of-one
 * run with generator i. A server batching requests with their own seeds relies on this.
 */
import { formatShape, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { Generator } from './generator.js';

/** Anything a sampler can draw standard normal noise from: a {@link Generator} or a {@link GeneratorList}. */
export interface NormalSource {
  randn(shape: Shape): Tensor<'float32'>;
}

/**
 * One generator per row of the batch.
 *
 * @example
 * const noise = new GeneratorList([new Generator(1), new Generator(2)]).randn([2, 4, 8, 8]);
 * // row 0 == new Generator(1).randn([1, 4, 8, 8]), row 1 == new Generator(2).randn([1, 4, 8, 8])
 */
export class GeneratorList implements NormalSource {
  readonly generators: readonly Generator[];

  constructor(generators: readonly Generator[]) {
    if (generators.length === 0) throw new RangeError('GeneratorList: at least one generator is needed');
    this.generators = [...generators];
  }

  randn(shape: Shape): Tensor<'float32'> {
    if (shape.length === 0 || shape[0] !== this.generators.length) {
      throw new RangeError(`GeneratorList: ${this.generators.length} generators for a batch of shape ${formatShape(shape)}; give one generator per row`);
    }
    const row: Shape = [1, ...shape.slice(1)];
    const rowSize = row.reduce((a, b) => a * b, 1);
    const data = new Float32Array(rowSize * this.generators.length);
    this.generators.forEach((g, i) => data.set(g.randn(row).data, i * rowSize));
    return new Tensor('float32', shape, data);
  }
}
