import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** d(a + b) = dy for both, summed back over broadcast axes. */
export const addGrad: GradFn = (args) => [() => reduceToShape(args.dy, inputAt(args, 0)), () => reduceToShape(args.dy, inputAt(args, 1))];
