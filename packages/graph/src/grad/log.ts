import { Div } from '../ops/div.js';
import { inputAt, type GradFn } from './_rule.js';

/** d ln x = dy / x. */
export const logGrad: GradFn = (args) => [() => Div(args.dy, inputAt(args, 0))];
