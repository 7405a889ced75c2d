import { attr } from '../attributes.js';
import { normalizeAxis } from '../dim.js';
import { check } from '../errors.js';
import { Value } from '../value.js';
import { int64s, scalar } from './_helpers.js';

/**
 * ONNX Gather: pick entries of `x` along `axis` by `indices` (negative indices count from the end).
 * The output shape is x.shape[:axis] + indices.shape + x.shape[axis+1:]. Indices are an int32/int64
 * tensor, a number (a scalar index, which removes the axis) or a list of numbers (an int64 constant).
 *
 * @example
 * Gather(embeddings, tokenIds);  // [vocab, dim] by [batch, 77] -> [batch, 77, dim]
 * Gather(x, -1, 1);              // x[:, -1]
 */
export function Gather(x: Value, indices: Value | number | readonly number[], axis = 0): Value {
  const op = 'Gather';
  const ax = normalizeAxis(axis, x.rank);
  check(ax !== undefined, op, `axis ${axis} is out of range for rank ${x.rank}`, [x.shape]);
  let idx: Value;
  if (indices instanceof Value) {
    check(indices.dtype === 'int64' || indices.dtype === 'int32', op, `indices must be int32 or int64, got ${indices.dtype}`, [x.shape, indices.shape]);
    idx = indices;
  } else {
    const list = typeof indices === 'number' ? [indices] : indices;
    const dim = x.shape[ax]!;
    for (const i of list) {
      check(Number.isInteger(i), op, `index ${i} is not an integer`, [x.shape]);
      check(typeof dim !== 'number' || (i >= -dim && i < dim), op, `index ${i} is out of range for dim ${ax} = ${dim}`, [x.shape]);
    }
    idx = typeof indices === 'number' ? scalar(x.graph, indices, 'int64') : int64s(x.graph, list, 'indices');
  }
  const shape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
  const [y] = x.graph.addNode({ opType: op, inputs: [x, idx], attributes: { axis: attr.int(ax) }, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
