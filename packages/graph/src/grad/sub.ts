import { Neg } from '../ops/neg.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** d(a − b) = (dy, −dy), summed back over broadcast axes. */
export const subGrad: GradFn = (args) => [() => reduceToShape(args.dy, inputAt(args, 0)), () => reduceToShape(Neg(args.dy), inputAt(args, 1))];
