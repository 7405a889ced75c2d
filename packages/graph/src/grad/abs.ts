import { Mul } from '../ops/mul.js';
import { Sign } from './_raw-ops.js';
import { inputAt, type GradFn } from './_rule.js';

/** d|x| = dy·sign(x) (0 at x = 0, as PyTorch): the L1 losses' gradient. */
export const absGrad: GradFn = (args) => [() => Mul(args.dy, Sign(inputAt(args, 0)))];
