import { attr, type AttrValue } from '../attributes.js';
import type { Value } from '../value.js';

/**
 * ONNX Shape: x's dims as a 1-D int64 tensor, optionally only dims [start, end) (negative counts from
 * the end, out of range is clamped, as in opset 15+). Useful where a dim is symbolic, e.g. to Expand to
 * the batch size.
 *
 * @example
 * Shape(x, 0, 1); // [batch]
 */
export function Shape(x: Value, start?: number, end?: number): Value {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + x.rank : v, 0), x.rank);
  const s = clamp(start ?? 0);
  const e = clamp(end ?? x.rank);
  const attributes: Record<string, AttrValue> = {};
  if (start !== undefined) attributes['start'] = attr.int(start);
  if (end !== undefined) attributes['end'] = attr.int(end);
  const [y] = x.graph.addNode({ opType: 'Shape', inputs: [x], attributes, outputs: [{ dtype: 'int64', shape: [Math.max(0, e - s)] }] });
  return y!;
}
