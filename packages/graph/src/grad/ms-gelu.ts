import { Mul } from '../ops/mul.js';
import { erfGeluDerivative } from './_gelu.js';
import { inputAt, type GradFn } from './_rule.js';

/** com.microsoft.Gelu, the exact (erf) GELU the `gelu` composite lowers to by default. */
export const msGeluGrad: GradFn = (args) => [() => Mul(args.dy, erfGeluDerivative(inputAt(args, 0)))];
