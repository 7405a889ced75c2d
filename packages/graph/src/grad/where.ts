import { Where } from '../ops/where.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';

/** d where(c, a, b) routes dy to a where c holds and to b elsewhere; the bool condition has no gradient. */
export const whereGrad: GradFn = (args) => {
  const c = inputAt(args, 0);
  return [undefined, () => reduceToShape(Where(c, args.dy, 0), inputAt(args, 1)), () => reduceToShape(Where(c, 0, args.dy), inputAt(args, 2))];
};
