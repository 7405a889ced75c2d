import { Div } from '../ops/div.js';
import { Mul } from '../ops/mul.js';
import { Neg } from '../ops/neg.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, outputAt, type GradFn } from './_rule.js';

/** d(a/b) = (dy/b, −dy·a/b²); the latter is written −dy·y/b to reuse the output. */
export const divGrad: GradFn = (args) => {
  const [a, b] = [inputAt(args, 0), inputAt(args, 1)];
  return [() => reduceToShape(Div(args.dy, b), a), () => reduceToShape(Neg(Div(Mul(args.dy, outputAt(args)), b)), b)];
};
