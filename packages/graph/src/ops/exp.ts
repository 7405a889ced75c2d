import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Exp, elementwise. */
export function Exp(x: Value): Value {
  return unary('Exp', x);
}
