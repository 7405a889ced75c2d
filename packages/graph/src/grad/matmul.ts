import { MatMul } from '../ops/matmul.js';
import { Squeeze } from '../ops/squeeze.js';
import { Transpose } from '../ops/transpose.js';
import { Unsqueeze } from '../ops/unsqueeze.js';
import type { Value } from '../value.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** Swap the last two axes. */
function transposeLast(v: Value): Value {
  const perm = [...Array(v.rank).keys()];
  perm.splice(-2, 2, v.rank - 1, v.rank - 2);
  return Transpose(v, perm);
}

/**
 * d(a @ b) = (dy @ bᵀ, aᵀ @ dy), summed back over broadcast batch axes. 1-D operands are promoted as numpy
 * promotes them (a to [1, K], b to [K, 1]), and so is dy, and the added axes are squeezed off at the end.
 */
export const matmulGrad: GradFn = (args) => {
  const [a, b] = [inputAt(args, 0), inputAt(args, 1)];
  const a2 = a.rank === 1 ? Unsqueeze(a, [0]) : a;
  const b2 = b.rank === 1 ? Unsqueeze(b, [-1]) : b;
  let dy = args.dy;
  if (b.rank === 1) dy = Unsqueeze(dy, [-1]);
  if (a.rank === 1) dy = Unsqueeze(dy, [-2]);
  return [
    () => {
      const da = reduceToShape(MatMul(dy, transposeLast(b2)), a2);
      return a.rank === 1 ? Squeeze(da, [0]) : da;
    },
    () => {
      const db = reduceToShape(MatMul(transposeLast(a2), dy), b2);
      return b.rank === 1 ? Squeeze(db, [-1]) : db;
    },
  ];
};
