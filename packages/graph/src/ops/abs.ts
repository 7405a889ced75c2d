import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Abs, elementwise. */
export function Abs(x: Value): Value {
  return unary('Abs', x, false);
}
