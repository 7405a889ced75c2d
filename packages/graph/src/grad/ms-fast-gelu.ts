import { Add } from '../ops/add.js';
import { Mul } from '../ops/mul.js';
import type { Value } from '../value.js';
import { tanhGeluDerivative } from './_gelu.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, once, type GradFn } from './_rule.js';

/** com.microsoft.FastGelu: the tanh GELU of x (+ bias over the last axis); the bias gets dy summed to its shape. */
export const msFastGeluGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const bias = args.inputs[1];
  const dz = once((): Value => Mul(args.dy, tanhGeluDerivative(bias ? Add(x, bias) : x)));
  return [dz, () => reduceToShape(dz(), inputAt(args, 1))];
};
