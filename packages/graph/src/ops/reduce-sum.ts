import type { Value } from '../value.js';
import { reduce } from './_reduce.js';

/**
 * ONNX ReduceSum: the sum over `axes` (default: all axes), keeping them as 1s unless `keepdims` is false.
 * Axes are an input from opset 13, an attribute before.
 *
 * @example
 * ReduceSum(x, [2, 3]); // [N, C, H, W] -> [N, C, 1, 1]
 */
export function ReduceSum(x: Value, axes?: readonly number[], keepdims = true): Value {
  return reduce('ReduceSum', x, axes, keepdims, 13);
}
