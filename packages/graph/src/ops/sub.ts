import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Sub, numpy broadcasting. */
export function Sub(a: Operand, b: Operand): Value {
  return binary('Sub', a, b);
}
