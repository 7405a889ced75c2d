import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Sqrt, elementwise. */
export function Sqrt(x: Value): Value {
  return unary('Sqrt', x);
}
