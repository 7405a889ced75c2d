import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Div, numpy broadcasting. */
export function Div(a: Operand, b: Operand): Value {
  return binary('Div', a, b);
}
