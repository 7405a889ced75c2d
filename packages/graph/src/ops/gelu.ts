import { attr } from '../attributes.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat } from './_helpers.js';

/**
 * ONNX Gelu (opset 20): `approximate: 'none'` is 0.5·x·(1 + erf(x/√2)), `'tanh'` the tanh approximation.
 * Needs a graph built with opset ≥ 20. onnxruntime-node 1.30's CPU EP runs it (tested), and the native WebGPU EP
 * registers a Gelu-20 kernel. Model code calls the `gelu` composite, which picks this op or another form per target.
 *
 * @example
 * const y = Gelu(x, 'tanh');
 */
export function Gelu(x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  const op = 'Gelu';
  checkFloat(op, x);
  check(x.graph.opset >= 20, op, `needs opset 20 or newer, the graph has ${x.graph.opset}`);
  const [y] = x.graph.addNode({
    opType: op,
    inputs: [x],
    attributes: { approximate: attr.string(approximate) },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
