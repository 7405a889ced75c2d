import type { Value } from '../value.js';
import type { Operand } from './_helpers.js';
import { variadic } from './_variadic.js';

/**
 * ONNX Max: the elementwise maximum of one or more operands, broadcasting together.
 *
 * @example
 * Max(x, 0); // ReLU
 */
export function Max(...operands: Operand[]): Value {
  return variadic('Max', operands);
}
