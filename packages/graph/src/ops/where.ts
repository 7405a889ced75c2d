import { broadcastShapes, formatDims } from '../dim.js';
import { check } from '../errors.js';
import { Value } from '../value.js';
import { checkSameDType, operand, type Operand } from './_helpers.js';

/**
 * ONNX Where: `cond ? a : b` elementwise, the three broadcasting together. `cond` is bool; a number for
 * `a` or `b` becomes a scalar of the other's dtype (one of them must be a tensor).
 *
 * @example
 * Where(mask, x, -Infinity); // masked attention scores
 */
export function Where(cond: Value, a: Operand, b: Operand): Value {
  const op = 'Where';
  const like = a instanceof Value ? a : b instanceof Value ? b : undefined;
  check(like !== undefined, op, 'a or b must be a tensor (a number has no dtype of its own)');
  const x = operand(like, a);
  const y = operand(like, b);
  const shapes = [cond.shape, x.shape, y.shape];
  check(cond.dtype === 'bool', op, `the condition must be bool, got ${cond.dtype}`, shapes);
  checkSameDType(op, [x, y]);
  const shape = broadcastShapes(shapes);
  check(shape !== undefined, op, `cannot broadcast ${shapes.map(formatDims).join(', ')}`);
  const [out] = x.graph.addNode({ opType: op, inputs: [cond, x, y], outputs: [{ dtype: x.dtype, shape }] });
  return out!;
}
