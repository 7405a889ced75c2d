import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Relu, elementwise. */
export function Relu(x: Value): Value {
  return unary('Relu', x, false);
}
