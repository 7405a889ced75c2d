import { broadcastShapes, formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import { Value } from '../value.js';
import { freshDim } from './_fresh-dim.js';
import { int64s } from './_helpers.js';

/**
 * ONNX Expand: broadcast `x` against `shape` (both ways, as numpy does: a 1 in `shape` keeps x's dim).
 * `shape` is a list of numbers, or a 1-D int64 tensor of known length (e.g. from `Shape`), in which case
 * the output dims are symbolic wherever x's dim is 1.
 *
 * @example
 * Expand(t, [2, 1]);   // t [1] -> [2, 1]
 */
export function Expand(x: Value, shape: readonly number[] | Value): Value {
  const op = 'Expand';
  const g = x.graph;
  let out: Dim[];
  let shapeInput: Value;
  if (shape instanceof Value) {
    const len = shape.shape[0];
    check(shape.dtype === 'int64' && shape.rank === 1 && typeof len === 'number', op, 'a shape tensor must be 1-D int64 of known length', [x.shape, shape.shape]);
    const rank = Math.max(len, x.rank);
    out = Array.from({ length: rank }, (_, i) => {
      const d = x.shape[i - (rank - x.rank)];
      // Only a known dim > 1 of x survives whatever the shape tensor holds (there it must be 1 or d).
      return typeof d === 'number' && d !== 1 ? d : freshDim(g, `${x.name}_expand${i}`);
    });
    shapeInput = shape;
  } else {
    check(shape.every((d) => Number.isInteger(d) && d >= 0), op, `invalid shape ${formatDims(shape)}`, [x.shape]);
    const b = broadcastShapes([x.shape, shape]);
    check(b !== undefined, op, `cannot broadcast ${formatDims(x.shape)} to ${formatDims(shape)}`, [x.shape]);
    out = b;
    shapeInput = int64s(g, shape, 'shape');
  }
  const [y] = g.addNode({ opType: op, inputs: [x, shapeInput], outputs: [{ dtype: x.dtype, shape: out }] });
  return y!;
}
