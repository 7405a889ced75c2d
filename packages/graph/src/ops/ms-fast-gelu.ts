import { dimsCompatible } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat, checkSameDType } from './_helpers.js';

/**
 * com.microsoft.FastGelu: the tanh approximation 0.5·y·(1 + tanh(√(2/π)·(y + 0.044715·y³))) of y = x (+ bias),
 * i.e. torch's `gelu(approximate='tanh')`. Kernels: CPU EP (and WASM), CUDA, native WebGPU, JSEP.
 *
 * @example
 * const y = MsFastGelu(x);
 */
export function MsFastGelu(x: Value, bias?: Value): Value {
  const op = 'com.microsoft.FastGelu';
  checkFloat(op, x);
  if (bias) {
    checkSameDType(op, [x, bias]);
    check(bias.rank === 1 && x.rank >= 1 && dimsCompatible(bias.shape[0]!, x.shape[x.rank - 1]!), op, 'bias must be 1-D over the last axis', [x.shape, bias.shape]);
  }
  const [y] = x.graph.addNode({
    opType: 'FastGelu',
    domain: 'com.microsoft',
    inputs: bias ? [x, bias] : [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
