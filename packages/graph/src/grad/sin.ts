import { Cos } from '../ops/cos.js';
import { Mul } from '../ops/mul.js';
import { inputAt, type GradFn } from './_rule.js';

/** d sin x = dy·cos x. */
export const sinGrad: GradFn = (args) => [() => Mul(args.dy, Cos(inputAt(args, 0)))];
