import type { Value } from '../value.js';
import { binary } from './_elementwise.js';
import type { Operand } from './_helpers.js';

/** ONNX Equal: broadcasting comparison, bool output. */
export function Equal(a: Operand, b: Operand): Value {
  return binary('Equal', a, b, 'bool');
}
