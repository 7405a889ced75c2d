import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Reciprocal, elementwise. */
export function Reciprocal(x: Value): Value {
  return unary('Reciprocal', x);
}
