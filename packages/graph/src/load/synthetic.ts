import { castTensor, shapeSize, Tensor } from '@sdxs/tensor';
import type { Graph } from '../graph.js';

/**
 * Deterministic stand-in weights for every unbound parameter, for benchmarks and full-size tests where the
 * real checkpoint cannot be downloaded. Scaled like a trained network so activations stay finite through
 * deep stacks: matrices and kernels uniform with variance 1/fan_in, norm scales near 1, biases small — the
 * same recipe the golden cases' weights follow. The values depend only on `seed` and each parameter's name.
 *
 * @example
 * const g = new Graph(); unet2DCondition(g, config); bindSynthetic(g, 0);
 */
export function bindSynthetic(graph: Graph, seed = 0): void {
  for (const init of graph.initializers.values()) {
    if (init.data !== undefined) continue;
    if (init.dtype !== 'float32' && init.dtype !== 'float16' && init.dtype !== 'bfloat16') {
      throw new Error(`bindSynthetic: ${init.name} is ${init.dtype}; only float parameters get synthetic values`);
    }
    const t = syntheticTensor(init.name, init.shape, seed);
    graph.bind(init.name, init.dtype === 'float32' ? t : castTensor(t, init.dtype));
  }
}

function hashName(name: string, seed: number): number {
  // FNV-1a over the name, mixed with the seed: parameters get independent streams.
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/** One synthetic parameter (float32), named as in a checkpoint. */
export function syntheticTensor(name: string, shape: readonly number[], seed = 0): Tensor<'float32'> {
  const n = shapeSize(shape);
  const data = new Float32Array(n);
  let s = hashName(name, seed);
  const isNormScale = shape.length === 1 && /norm[^.]*\.weight$|ln[^.]*\.weight$/.test(name);
  let lo: number;
  let span: number;
  if (shape.length >= 2) {
    const fanIn = shapeSize(shape.slice(1));
    const a = Math.sqrt(3 / fanIn); // uniform(-a, a) has variance 1/fan_in
    lo = -a;
    span = 2 * a;
  } else if (isNormScale) {
    lo = 0.9;
    span = 0.2;
  } else {
    lo = -0.1;
    span = 0.2;
  }
  const scale = span / 4294967296;
  for (let i = 0; i < n; i++) {
    // xorshift32: fast and good enough for weights that only need to look random.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = lo + (s >>> 0) * scale;
  }
  return new Tensor('float32', shape, data);
}
