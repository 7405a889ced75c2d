import { Equal } from '../ops/equal.js';
import { Where } from '../ops/where.js';
import { outputAt, type GradFn } from './_rule.js';

/** d relu(x) = dy where y > 0, else 0 (0 at x = 0, as PyTorch). Tested on y, since y = 0 exactly where x ≤ 0. */
export const reluGrad: GradFn = (args) => [() => Where(Equal(outputAt(args), 0), 0, args.dy)];
