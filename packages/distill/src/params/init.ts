import type { Graph } from '@sdxs/graph';
import { Tensor, type Generator } from '@sdxs/tensor';

export interface RandomInitOptions {
  /** Scale of the weights' standard deviation: std = gain/√fan_in (default 1; √2 suits ReLU stacks). */
  gain?: number;
  /** Only these parameters (default: every unbound one). */
  filter?: (name: string) => boolean;
}

/**
 * Bind every unbound float parameter of `g` to a fresh value drawn from `generator` (torch's CPU stream, so a seed
 * reproduces a run): weights of rank ≥ 2 ~ N(0, gain²/fan_in) with fan_in the product of all dims but the first
 * (Conv2d [out, in, k, k] and Linear [out, in] alike); 1-D `…weight` (norm scales) 1; biases 0. For students
 * trained from scratch.
 *
 * @example
 * bindRandom(graph, new Generator(0), { gain: Math.SQRT2 });
 */
export function bindRandom(g: Graph, generator: Generator, options: RandomInitOptions = {}): string[] {
  const gain = options.gain ?? 1;
  const bound: string[] = [];
  for (const name of g.parameterNames) {
    const init = g.initializers.get(name)!;
    if (init.data !== undefined || (options.filter && !options.filter(name))) continue;
    if (init.dtype !== 'float32') throw new TypeError(`bindRandom: ${name} is ${init.dtype}; initialise float32 parameters`);
    let t: Tensor<'float32'>;
    if (init.shape.length >= 2) {
      const fanIn = init.shape.slice(1).reduce((a, b) => a * b, 1);
      t = generator.randn(init.shape);
      const std = gain / Math.sqrt(fanIn);
      for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * std;
    } else {
      t = Tensor.zeros('float32', init.shape);
      if (name.endsWith('weight')) t.data.fill(1);
    }
    g.bind(name, t);
    bound.push(name);
  }
  return bound;
}
