import { attr } from '../attributes.js';
import { normalizeAxis } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';

export interface ArgMaxAttrs {
  /** Keep the reduced axis as a 1 (default true, as in ONNX). */
  keepdims?: boolean;
  /** On ties, return the last maximal index instead of the first. */
  selectLastIndex?: boolean;
}

/**
 * ONNX ArgMax along `axis`: int64 indices of the largest values.
 *
 * @example
 * ArgMax(logits, -1, { keepdims: false }); // [2, 10] -> [2]
 */
export function ArgMax(x: Value, axis = 0, attrs: ArgMaxAttrs = {}): Value {
  const op = 'ArgMax';
  const ax = normalizeAxis(axis, x.rank);
  check(ax !== undefined, op, `axis ${axis} is out of range for rank ${x.rank}`, [x.shape]);
  check(x.dtype !== 'bool', op, 'bool tensors have no order', [x.shape]);
  const keep = attrs.keepdims ?? true;
  const shape = keep ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  const [y] = x.graph.addNode({
    opType: op,
    inputs: [x],
    attributes: { axis: attr.int(ax), keepdims: attr.int(keep ? 1 : 0), select_last_index: attr.int(attrs.selectLastIndex ? 1 : 0) },
    outputs: [{ dtype: 'int64', shape }],
  });
  return y!;
}
