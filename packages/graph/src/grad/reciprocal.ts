import { Mul } from '../ops/mul.js';
import { Neg } from '../ops/neg.js';
import { outputAt, type GradFn } from './_rule.js';

/** d(1/x) = −dy/x² = −dy·y². */
export const reciprocalGrad: GradFn = (args) => {
  const y = outputAt(args);
  return [() => Neg(Mul(args.dy, Mul(y, y)))];
};
