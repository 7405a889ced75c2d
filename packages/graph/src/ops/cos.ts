import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Cos, elementwise. */
export function Cos(x: Value): Value {
  return unary('Cos', x);
}
