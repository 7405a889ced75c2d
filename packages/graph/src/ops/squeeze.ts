import { formatDims } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { int64s } from './_helpers.js';

/**
 * ONNX Squeeze: remove the size-1 dims at `axes` (a symbolic dim may be named; the runtime checks it
 * is 1). Without axes every dim must be known, and all the 1s go.
 *
 * @example
 * Squeeze(x, [1]); // [2, 1, 3] -> [2, 3]
 */
export function Squeeze(x: Value, axes?: readonly number[]): Value {
  const op = 'Squeeze';
  let drop: Set<number>;
  if (axes) {
    drop = new Set(normalizeAxes(op, axes, x.rank, [x.shape]));
    for (const a of drop) {
      const d = x.shape[a]!;
      check(typeof d !== 'number' || d === 1, op, `axis ${a} has size ${d}, not 1`, [x.shape]);
    }
  } else {
    check(
      x.shape.every((d) => typeof d === 'number'),
      op,
      `without axes the shape must be known, got ${formatDims(x.shape)}: which symbolic dims are 1 is decided at run time`,
    );
    drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  }
  const shape = x.shape.filter((_, i) => !drop.has(i));
  const inputs = axes ? [x, int64s(x.graph, axes, 'axes')] : [x];
  const [y] = x.graph.addNode({ opType: op, inputs, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
