import { GraphError, type Value } from '@sdxs/graph';

/** Both operands of a pairwise loss: same dtype, same rank, dims that agree where both are known. */
export function checkPair(op: string, x: Value, y: Value): void {
  if (x.graph !== y.graph) throw new GraphError(op, `${x.name} and ${y.name} belong to different graphs`);
  if (x.dtype !== y.dtype) throw new GraphError(op, `operands must share a dtype, got ${x.dtype} and ${y.dtype}`);
  const same = x.rank === y.rank && x.shape.every((d, i) => typeof d !== 'number' || typeof y.shape[i] !== 'number' || d === y.shape[i]);
  if (!same) throw new GraphError(op, `operands must have one shape, got [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
}

/** The static size of axis `axis` of `x`, or a GraphError naming what needs it. */
export function staticDim(op: string, x: Value, axis: number, why: string): number {
  const d = x.shape[axis];
  if (typeof d !== 'number') throw new GraphError(op, `${why} needs a static size on axis ${axis} of ${x}`);
  return d;
}
