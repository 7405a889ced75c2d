import { Exp, Log, Mul, ReduceMax, ReduceMean, ReduceSum, stopGradient, Sub, type Value } from '@sdxs/graph';
import { checkPair } from './_check.js';

/**
 * `F.cross_entropy(logits, target)` with class probabilities as the target (one-hot for hard labels), mean over the
 * batch: −mean_b Σ_c target·log_softmax(logits). log_softmax is written as x − m − log Σ exp(x − m) with the row
 * max m held constant (its gradient cancels), so large logits never overflow.
 *
 * @example
 * const loss = crossEntropyLoss(logits, oneHot); // logits, oneHot: [B, C]
 */
export function crossEntropyLoss(logits: Value, target: Value): Value {
  checkPair('crossEntropyLoss', logits, target);
  const m = stopGradient(ReduceMax(logits, [-1], true));
  const shifted = Sub(logits, m);
  const logSoftmax = Sub(shifted, Log(ReduceSum(Exp(shifted), [-1], true)));
  return Mul(ReduceMean(ReduceSum(Mul(logSoftmax, target), [-1], false), undefined, false), -1);
}
