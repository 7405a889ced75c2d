import { Mul } from '../ops/mul.js';
import { outputAt, type GradFn } from './_rule.js';

/** d eˣ = dy·eˣ, reusing the output. */
export const expGrad: GradFn = (args) => [() => Mul(args.dy, outputAt(args))];
