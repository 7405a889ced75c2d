import { Exp } from '../ops/exp.js';
import { Mul } from '../ops/mul.js';
import { Neg } from '../ops/neg.js';
import { inputAt, type GradFn } from './_rule.js';

/** d erf x = dy · 2/√π · e^(−x²). */
export const erfGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  return [() => Mul(args.dy, Mul(Exp(Neg(Mul(x, x))), 2 / Math.sqrt(Math.PI)))];
};
