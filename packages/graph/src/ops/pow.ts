import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Pow, numpy broadcasting. */
export function Pow(a: Operand, b: Operand): Value {
  return binary('Pow', a, b);
}
