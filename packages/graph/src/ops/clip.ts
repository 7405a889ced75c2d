import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType, operand, type Operand } from './_helpers.js';

/**
 * ONNX Clip: clamp `x` to [min, max]; either bound may be left out. Bounds are scalars: a number (made a
 * constant of x's dtype) or a rank-0 tensor.
 *
 * @example
 * Clip(image, 0, 1);
 * Clip(x, undefined, 6); // ReLU6 upper half
 */
export function Clip(x: Value, min?: Operand, max?: Operand): Value {
  const op = 'Clip';
  const lo = min === undefined ? undefined : operand(x, min);
  const hi = max === undefined ? undefined : operand(x, max);
  const bounds = [lo, hi].filter((v): v is Value => v !== undefined);
  checkSameDType(op, [x, ...bounds]);
  for (const b of bounds) check(b.rank === 0, op, `bounds must be scalars, got ${b}`, [x.shape, b.shape]);
  check(x.dtype !== 'bool', op, 'bool tensors cannot be clipped', [x.shape]);
  // An omitted optional input is an empty name; trailing ones are dropped.
  const inputs = hi ? [x, lo, hi] : lo ? [x, lo] : [x];
  const [y] = x.graph.addNode({ opType: op, inputs, outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return y!;
}
