import { Mul } from '../ops/mul.js';
import { Sub } from '../ops/sub.js';
import { outputAt, type GradFn } from './_rule.js';

/** d tanh x = dy·(1 − y²). */
export const tanhGrad: GradFn = (args) => {
  const y = outputAt(args);
  return [() => Mul(args.dy, Sub(1, Mul(y, y)))];
};
