import { inputAt, type GradFn } from './_rule.js';
import { reshapeTo } from './_util.js';

/** Reshape, Squeeze, Unsqueeze: the same elements in a new shape, so dy goes back to x's shape. */
export const reshapeGrad: GradFn = (args) => [() => reshapeTo(args.dy, inputAt(args, 0))];
