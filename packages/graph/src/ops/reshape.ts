import { formatDims, staticSize, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { int64s } from './_helpers.js';
import { freshDim } from './_fresh-dim.js';

/**
 * ONNX Reshape with a constant target shape: 0 copies the input dim at that position, -1 is inferred.
 * Symbolic input dims are carried through when copied with 0.
 */
export function Reshape(x: Value, shape: readonly number[]): Value {
  const op = 'Reshape';
  check(shape.filter((d) => d === -1).length <= 1, op, `at most one -1 allowed in ${formatDims(shape)}`);
  const out: Dim[] = shape.map((d, i) => {
    check(Number.isInteger(d) && d >= -1, op, `invalid target dim ${d} in ${formatDims(shape)}`);
    if (d === 0) {
      check(i < x.rank, op, `0 at position ${i} but the input has rank ${x.rank}`, [x.shape]);
      return x.shape[i]!;
    }
    return d;
  });
  const inferred = out.indexOf(-1);
  const total = staticSize(x.shape);
  const known = staticSize(out.filter((d) => d !== -1));
  if (total !== undefined && known !== undefined) {
    if (inferred >= 0) {
      check(known > 0 && total % known === 0, op, `cannot reshape ${formatDims(x.shape)} to ${formatDims(shape)}`);
      out[inferred] = total / known;
    } else {
      check(total === known, op, `cannot reshape ${formatDims(x.shape)} (${total} elements) to ${formatDims(shape)} (${known})`);
    }
  } else if (inferred >= 0) {
    out[inferred] = freshDim(x.graph, `${x.name}_reshape_${inferred}`);
  }
  const [y] = x.graph.addNode({ opType: op, inputs: [x, int64s(x.graph, shape, 'shape')], outputs: [{ dtype: x.dtype, shape: out }] });
  return y!;
}
