import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Sin, elementwise. */
export function Sin(x: Value): Value {
  return unary('Sin', x);
}
