import { formatDims, type SymShape } from '../dim.js';
import { GraphError } from '../errors.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import type { Value } from '../value.js';

/**
 * The axes of a broadcast result `out` that were broadcast from `input` (tfjs's `getReductionAxes`): the
 * leading axes `input` lacks, then the axes where `input` has a 1 and `out` does not.
 * A symbolic dim of `input` against a different dim of `out` is refused: whether it broadcast is only known
 * at run time.
 */
export function reductionAxes(input: SymShape, out: SymShape): { lead: number[]; kept: number[] } {
  const extra = out.length - input.length;
  if (extra < 0) throw new GraphError('grad', `cannot reduce ${formatDims(out)} to the larger rank of ${formatDims(input)}`);
  const lead = [...Array(extra).keys()];
  const kept: number[] = [];
  input.forEach((d, i) => {
    const o = out[i + extra]!;
    if (d === o) return;
    if (d === 1) kept.push(i + extra);
    else {
      throw new GraphError(
        'grad',
        `cannot tell whether ${formatDims(input)} was broadcast to ${formatDims(out)} at axis ${i} (${d} vs ${o}); give that dim a size or the same name`,
      );
    }
  });
  return { lead, kept };
}

/**
 * Sum a cotangent of a broadcast result back to the shape of the operand that was broadcast (numpy rules),
 * so that `reduceToShape(dy, a)` is the gradient of `a` in `a + b`.
 *
 * @example
 * reduceToShape(dy, bias); // dy [N, C, H, W], bias [C, 1, 1] -> [C, 1, 1]
 */
export function reduceToShape(dy: Value, like: Value): Value {
  const { lead, kept } = reductionAxes(like.shape, dy.shape);
  let out = dy;
  if (kept.length > 0) out = ReduceSum(out, kept, true);
  if (lead.length > 0) out = ReduceSum(out, lead, false);
  return out;
}
