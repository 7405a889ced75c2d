import type { DType } from '@sdxs/tensor';
import type { Dim } from '../dim.js';
import type { Graph } from '../graph.js';
import { check } from '../errors.js';
import { Value } from '../value.js';
import { freshDim } from './_fresh-dim.js';
import { graphOf, scalar, type Operand } from './_helpers.js';

/** The dtypes ONNX Range accepts that sdxs uses. */
export type RangeDType = 'float32' | 'int32' | 'int64';

export interface RangeOptions {
  /** The dtype when every bound is a number (default int64); must match the tensor bounds otherwise. */
  dtype?: RangeDType;
  /** The graph to add to; needed only when every bound is a number. */
  graph?: Graph;
}

/**
 * ONNX Range: [start, start + delta, ...) up to `limit` (exclusive), ceil((limit − start) / delta) values.
 * Each bound is a scalar tensor or a number; numbers take the dtype of the tensor bounds, else `dtype`
 * (default int64). With numbers only, the length is known while building.
 *
 * @example
 * Range(0, 10, 2, { graph: g });                  // int64 [0, 2, 4, 6, 8], shape [5]
 * Range(0, 160, 1, { graph: g, dtype: 'float32' }); // timestep embedding exponents
 * Range(0, n, 1);                                  // n: a scalar int64 tensor; length known at run time
 */
export function Range(start: Operand, limit: Operand, delta: Operand, options: RangeOptions = {}): Value {
  const op = 'Range';
  const { dtype } = options;
  const g = options.graph ?? graphOf(op, start, limit, delta);
  const tensors = [start, limit, delta].filter((v): v is Value => v instanceof Value);
  const type: DType = tensors[0]?.dtype ?? dtype ?? 'int64';
  check(type === 'float32' || type === 'int32' || type === 'int64', op, `unsupported dtype ${type} (float32, int32 or int64)`);
  check(dtype === undefined || dtype === type, op, `dtype ${dtype} differs from the bounds' ${type}`);
  for (const v of tensors) check(v.dtype === type && v.rank === 0, op, `bounds must be scalars of one dtype, got ${v}`);
  const numbers = [start, limit, delta].filter((v): v is number => typeof v === 'number');
  if (type !== 'float32') check(numbers.every(Number.isInteger), op, `${type} bounds must be integers, got ${numbers.join(', ')}`);
  check(delta !== 0, op, 'delta must not be 0');
  let length: Dim;
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number') {
    // ONNX Runtime subtracts in the bounds' type before dividing; float32 rounding can change the count.
    const span = type === 'float32' ? Math.fround(Math.fround(limit) - Math.fround(start)) : limit - start;
    length = Math.max(0, Math.ceil(span / (type === 'float32' ? Math.fround(delta) : delta)));
  } else {
    length = freshDim(g, 'range');
  }
  const inputs = [start, limit, delta].map((v) => (v instanceof Value ? v : scalar(g, v, type)));
  const [y] = g.addNode({ opType: op, inputs, outputs: [{ dtype: type, shape: [length] }] });
  return y!;
}
