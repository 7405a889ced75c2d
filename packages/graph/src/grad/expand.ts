import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** d expand(x) = dy summed over the axes Expand broadcast. */
export const expandGrad: GradFn = (args) => [() => reduceToShape(args.dy, inputAt(args, 0))];
