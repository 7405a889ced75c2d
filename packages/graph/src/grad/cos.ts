import { Mul } from '../ops/mul.js';
import { Neg } from '../ops/neg.js';
import { Sin } from '../ops/sin.js';
import { inputAt, type GradFn } from './_rule.js';

/** d cos x = −dy·sin x. */
export const cosGrad: GradFn = (args) => [() => Neg(Mul(args.dy, Sin(inputAt(args, 0))))];
