import { Mul } from '../ops/mul.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** d(a·b) = (dy·b, dy·a), summed back over broadcast axes. */
export const mulGrad: GradFn = (args) => {
  const [a, b] = [inputAt(args, 0), inputAt(args, 1)];
  return [() => reduceToShape(Mul(args.dy, b), a), () => reduceToShape(Mul(args.dy, a), b)];
};
