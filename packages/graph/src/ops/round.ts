import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Round: to the nearest integer, halves to even (numpy's `round`), elementwise. Not differentiable. */
export function Round(x: Value): Value {
  return unary('Round', x);
}
