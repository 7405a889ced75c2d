import type { Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { int64s } from './_helpers.js';

/**
 * ONNX Unsqueeze: insert size-1 dims at `axes`, which index the *output* (negative counts from its end).
 *
 * @example
 * Unsqueeze(x, [0, -1]); // [3, 4] -> [1, 3, 4, 1]
 */
export function Unsqueeze(x: Value, axes: readonly number[]): Value {
  const op = 'Unsqueeze';
  check(axes.length > 0, op, 'needs at least one axis', [x.shape]);
  const rank = x.rank + axes.length;
  const ax = new Set(normalizeAxes(op, axes, rank, [x.shape]));
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.has(i) ? 1 : x.shape[j++]!);
  const [y] = x.graph.addNode({ opType: op, inputs: [x, int64s(x.graph, axes, 'axes')], outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
