import { Div } from '../ops/div.js';
import { Mul } from '../ops/mul.js';
import { outputAt, type GradFn } from './_rule.js';

/** d√x = dy / (2√x), reusing the output. */
export const sqrtGrad: GradFn = (args) => [() => Div(Mul(args.dy, 0.5), outputAt(args))];
