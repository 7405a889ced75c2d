import { GraphError, ReduceMean, Reshape, Slice, type Value } from '@sdxs/graph';
import { staticDim } from './_check.js';

/**
 * `F.avg_pool2d(x, k)` (kernel = stride = k, no padding, floor mode) on [N, C, H, W] with static H, W, as
 * Reshape to [N, C, H/k, k, W/k, k] and ReduceMean over the two k axes: ops that already have gradient rules,
 * so no AveragePool op (and no rule for it) is needed. Rows and columns past the last whole window are
 * dropped, as torch drops them.
 *
 * @example
 * const small = avgPool2d(image, 8); // [N, 3, 512, 512] → [N, 3, 64, 64]
 */
export function avgPool2d(x: Value, k: number): Value {
  const op = 'avgPool2d';
  if (x.rank !== 4) throw new GraphError(op, `expects [N, C, H, W], got ${x}`);
  if (!Number.isInteger(k) || k < 1) throw new GraphError(op, `the kernel must be a positive integer, got ${k}`);
  const h = staticDim(op, x, 2, 'pooling');
  const w = staticDim(op, x, 3, 'pooling');
  const [oh, ow] = [Math.floor(h / k), Math.floor(w / k)];
  if (oh === 0 || ow === 0) throw new GraphError(op, `a ${k}×${k} window does not fit in ${h}×${w}`);
  let v = x;
  if (oh * k !== h || ow * k !== w) v = Slice(v, [0, 0], [oh * k, ow * k], [2, 3]);
  // 0 copies N and C from the input, so the batch may stay symbolic.
  return ReduceMean(Reshape(v, [0, 0, oh, k, ow, k]), [3, 5], false);
}
