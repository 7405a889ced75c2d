import type { Value } from '../value.js';
import { reduce } from './_reduce.js';

/**
 * ONNX ReduceMax: the maximum over `axes` (default: all axes), keeping them as 1s unless `keepdims` is false.
 * Axes are an input from opset 18, an attribute before.
 *
 * @example
 * ReduceMax(x, [2, 3]); // [N, C, H, W] -> [N, C, 1, 1]
 */
export function ReduceMax(x: Value, axes?: readonly number[], keepdims = true): Value {
  return reduce('ReduceMax', x, axes, keepdims, 18);
}
