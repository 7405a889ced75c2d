import { Equal } from '../ops/equal.js';
import { Where } from '../ops/where.js';
import { inputAt, outputAt, type GradFn } from './_rule.js';

/**
 * d clip(x) = dy where x lies within the bounds (bounds included, as PyTorch's clamp), else 0; "within" is
 * y = x. The bounds get no gradient (they are constants in every model here): the backward pass refuses a
 * graph that needs one.
 */
export const clipGrad: GradFn = (args) => [() => Where(Equal(outputAt(args), inputAt(args, 0)), args.dy, 0)];
