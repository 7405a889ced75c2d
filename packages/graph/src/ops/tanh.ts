import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Tanh, elementwise. */
export function Tanh(x: Value): Value {
  return unary('Tanh', x);
}
