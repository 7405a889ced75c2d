import { Neg } from '../ops/neg.js';
import type { GradFn } from './_rule.js';

/** d(−x) = −dy. */
export const negGrad: GradFn = (args) => [() => Neg(args.dy)];
