import type { Value } from '../value.js';
import { unary } from './_elementwise.js';

/** ONNX Log, elementwise. */
export function Log(x: Value): Value {
  return unary('Log', x);
}
