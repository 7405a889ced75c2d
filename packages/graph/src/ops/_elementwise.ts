import type { DType } from '@sdxs/tensor';
import { broadcastShapes, formatDims } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat, checkSameDType, graphOf, operand, type Operand } from './_helpers.js';

/** A broadcasting binary op (Add, Mul, ...). Numbers become scalar constants of the other side's dtype. */
export function binary(opType: string, a: Operand, b: Operand, outDType?: DType): Value {
  graphOf(opType, a, b);
  const x = typeof a === 'number' ? operand(b as Value, a) : a;
  const y = operand(x, b);
  checkSameDType(opType, [x, y]);
  const shape = broadcastShapes([x.shape, y.shape]);
  check(shape !== undefined, opType, `cannot broadcast ${formatDims(x.shape)} with ${formatDims(y.shape)}`);
  const [out] = x.graph.addNode({ opType, inputs: [x, y], outputs: [{ dtype: outDType ?? x.dtype, shape }] });
  return out!;
}

/** A unary op whose output has the input's dtype and shape. */
export function unary(opType: string, x: Value, float = true): Value {
  if (float) checkFloat(opType, x);
  const [out] = x.graph.addNode({ opType, inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return out!;
}
