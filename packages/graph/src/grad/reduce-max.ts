import { Cast } from '../ops/cast.js';
import { Div } from '../ops/div.js';
import { Equal } from '../ops/equal.js';
import { Mul } from '../ops/mul.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { reduceAxes, withKeptDims } from './_reduce.js';
import { inputAt, outputAt, type GradFn } from './_rule.js';

/**
 * d max(x) routes dy to the positions equal to the maximum (an Equal mask), split evenly among ties as
 * PyTorch's amax does, so the gradient still sums to dy.
 */
export const reduceMaxGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const { axes, keepdims, noop } = reduceAxes(args);
  return [
    () => {
      if (noop) return args.dy;
      const mask = Cast(Equal(x, withKeptDims(outputAt(args), axes, keepdims)), x.dtype);
      const ties = ReduceSum(mask, axes, true);
      return Mul(mask, Div(withKeptDims(args.dy, axes, keepdims), ties));
    },
    undefined,
  ];
};
