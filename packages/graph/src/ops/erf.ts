import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Erf, elementwise. */
export function Erf(x: Value): Value {
  return unary('Erf', x);
}
