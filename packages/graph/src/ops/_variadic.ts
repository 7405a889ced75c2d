import { broadcastShapes, formatDims } from '../dim.js';
import { check } from '../errors.js';
import { Value } from '../value.js';
import { checkSameDType, operand, type Operand } from './_helpers.js';

/** A broadcasting op over one or more operands (Max, Min); numbers become scalars of the tensors' dtype. */
export function variadic(opType: string, operands: readonly Operand[]): Value {
  const like = operands.find((v): v is Value => v instanceof Value);
  check(like !== undefined, opType, 'needs at least one tensor operand');
  const inputs = operands.map((v) => operand(like, v));
  checkSameDType(opType, inputs);
  check(like.dtype !== 'bool', opType, 'bool tensors have no order', inputs.map((v) => v.shape));
  const shape = broadcastShapes(inputs.map((v) => v.shape));
  check(shape !== undefined, opType, `cannot broadcast ${inputs.map((v) => formatDims(v.shape)).join(', ')}`);
  const [y] = like.graph.addNode({ opType, inputs, outputs: [{ dtype: like.dtype, shape }] });
  return y!;
}
