import type { Value } from '../value.js';

/**
 * ONNX Identity: the same tensor under a new name (e.g. a named tap on an activation).
 *
 * @example
 * const tap = Identity(hidden); // a separate edge to read out or stop gradients at
 */
export function Identity(x: Value): Value {
  const [y] = x.graph.addNode({ opType: 'Identity', inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return y!;
}
