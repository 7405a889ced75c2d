import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Mul, numpy broadcasting. */
export function Mul(a: Operand, b: Operand): Value {
  return binary('Mul', a, b);
}
