import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Neg, elementwise. */
export function Neg(x: Value): Value {
  return unary('Neg', x, false);
}
