import { Mul } from '../ops/mul.js';
import { Sub } from '../ops/sub.js';
import { outputAt, type GradFn } from './_rule.js';

/** d σ(x) = dy·y·(1 − y). */
export const sigmoidGrad: GradFn = (args) => {
  const y = outputAt(args);
  return [() => Mul(args.dy, Mul(y, Sub(1, y)))];
};
