import { attr } from '../attributes.js';
import { normalizeAxis } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat } from './_helpers.js';

/**
 * ONNX Softmax (opset 13 semantics: normalizes along one `axis`, default the last).
 *
 * @example
 * const p = Softmax(scores); // over the last axis
 */
export function Softmax(x: Value, axis = -1): Value {
  const op = 'Softmax';
  checkFloat(op, x);
  const a = normalizeAxis(axis, x.rank);
  check(a !== undefined, op, `axis ${axis} is out of range for rank ${x.rank}`, [x.shape]);
  const [y] = x.graph.addNode({ opType: op, inputs: [x], attributes: { axis: attr.int(a) }, outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return y!;
}
