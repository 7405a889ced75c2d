import { Mul, ReduceMean, Sub, type Value } from '@sdxs/graph';
import { checkPair } from './_check.js';

/**
 * `F.mse_loss(x, y)` with the default mean reduction: mean((x − y)²) over every element, a scalar [].
 *
 * @example
 * const loss = mseLoss(studentOut, stopGradient(teacherOut));
 */
export function mseLoss(x: Value, y: Value): Value {
  checkPair('mseLoss', x, y);
  const d = Sub(x, y);
  return ReduceMean(Mul(d, d), undefined, false);
}
