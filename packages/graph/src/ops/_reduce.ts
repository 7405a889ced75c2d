import { attr, type AttrValue } from '../attributes.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { int64s } from './_helpers.js';

/**
 * A Reduce* node. `axesInputSince` is the opset from which that op takes `axes` as an input instead of
 * an attribute (13 for ReduceSum, 18 for the others). No axes (or an empty list) reduces every axis.
 */
export function reduce(opType: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean, axesInputSince: number): Value {
  check(x.dtype !== 'bool', opType, 'bool tensors cannot be reduced', [x.shape]);
  const list = axes ?? [];
  const ax = new Set(normalizeAxes(opType, list, x.rank, [x.shape]));
  const all = ax.size === 0;
  const shape = keepdims ? x.shape.map((d, i) => (all || ax.has(i) ? 1 : d)) : x.shape.filter((_, i) => !(all || ax.has(i)));
  const attributes: Record<string, AttrValue> = { keepdims: attr.int(keepdims ? 1 : 0) };
  const inputs = [x];
  if (!all) {
    if (x.graph.opset >= axesInputSince) inputs.push(int64s(x.graph, [...ax], 'axes'));
    else attributes['axes'] = attr.ints([...ax]);
  }
  const [y] = x.graph.addNode({ opType, inputs, attributes, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
