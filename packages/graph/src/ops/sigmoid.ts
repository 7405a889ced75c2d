import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Sigmoid, elementwise. */
export function Sigmoid(x: Value): Value {
  return unary('Sigmoid', x);
}
