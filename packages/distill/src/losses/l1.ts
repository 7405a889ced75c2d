import { Abs, ReduceMean, Sub, type Value } from '@sdxs/graph';
import { checkPair } from './_check.js';
import { avgPool2d } from './avg-pool.js';

/**
 * `F.l1_loss(x, y)` with the mean reduction: mean|x − y| over every element, a scalar []. Its gradient at
 * x = y is 0, as torch's sign(0).
 *
 * @example
 * const loss = l1Loss(prediction, target);
 */
export function l1Loss(x: Value, y: Value): Value {
  checkPair('l1Loss', x, y);
  return ReduceMean(Abs(Sub(x, y)), undefined, false);
}

/**
 * The SDXS decoder loss (paper §3.1): `F.l1_loss(F.avg_pool2d(x, k), F.avg_pool2d(y, k))`, L1 between images
 * average-pooled by `factor` (8 in the paper), which compares colours and layout while leaving the fine texture to
 * the GAN loss. `x`, `y`: [N, C, H, W] with static H and W.
 *
 * @example
 * const loss = l1DownsampledLoss(studentImage, stopGradient(teacherImage)); // 8× pooling
 */
export function l1DownsampledLoss(x: Value, y: Value, factor = 8): Value {
  checkPair('l1DownsampledLoss', x, y);
  return l1Loss(avgPool2d(x, factor), avgPool2d(y, factor));
}
