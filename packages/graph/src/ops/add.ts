import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Add, numpy broadcasting. */
export function Add(a: Operand, b: Operand): Value {
  return binary('Add', a, b);
}
