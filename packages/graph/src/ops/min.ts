import type { Value } from '../value.js';
import type { Operand } from './_helpers.js';
import { variadic } from './_variadic.js';

/**
 * ONNX Min: the elementwise minimum of one or more operands, broadcasting together.
 *
 * @example
 * Min(x, 1);
 */
export function Min(...operands: Operand[]): Value {
  return variadic('Min', operands);
}
