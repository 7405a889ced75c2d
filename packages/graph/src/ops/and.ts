import { check } from '../errors.js';
import type { Value } from '../value.js';
import { binary } from './_elementwise.js';

/**
 * ONNX And: logical and of two bool tensors, broadcasting.
 *
 * @example
 * And(causalMask, paddingMask);
 */
export function And(a: Value, b: Value): Value {
  check(a.dtype === 'bool' && b.dtype === 'bool', 'And', `expects bool tensors, got ${a.dtype} and ${b.dtype}`, [a.shape, b.shape]);
  return binary('And', a, b, 'bool');
}
