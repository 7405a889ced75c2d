import { Add } from '../ops/add.js';
import { Cast } from '../ops/cast.js';
import { Div } from '../ops/div.js';
import { Equal } from '../ops/equal.js';
import { Mul } from '../ops/mul.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, once, outputAt, type GradFn } from './_rule.js';

/**
 * Max and Min (elementwise, broadcasting): dy goes to the operand that equals the result, split evenly
 * among operands that tie (as torch.maximum does for two), then summed back over broadcast axes.
 */
export const extremumGrad: GradFn = (args) => {
  const y = outputAt(args);
  const xs = args.inputs.map((_, i) => inputAt(args, i));
  const masks = once(() => xs.map((x) => Cast(Equal(x, y), y.dtype)));
  const share = once(() => Div(args.dy, masks().reduce((s, m) => Add(s, m))));
  return xs.map((x, i) => () => reduceToShape(Mul(share(), masks()[i]!), x));
};
