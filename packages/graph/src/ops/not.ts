import { check } from '../errors.js';
import type { Value } from '../value.js';

/**
 * ONNX Not: logical negation of a bool tensor.
 *
 * @example
 * Not(Equal(ids, padId)); // true where a token is not padding
 */
export function Not(x: Value): Value {
  check(x.dtype === 'bool', 'Not', `expects a bool tensor, got ${x.dtype} for ${x.name}`, [x.shape]);
  const [y] = x.graph.addNode({ opType: 'Not', inputs: [x], outputs: [{ dtype: 'bool', shape: x.shape }] });
  return y!;
}
