import { Mul } from '../ops/mul.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { Reshape } from '../ops/reshape.js';
import { standardize, standardizeGrad } from './_normalize.js';
import { inputAt, once, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/**
 * ONNX InstanceNormalization, y = x̂·scale[c] + bias[c] with x̂ standardized per (n, c) over the spatial axes
 * (group norm's default lowering). Statistics are recomputed, as the node has no mean/variance outputs.
 */
export const instanceNormalizationGrad: GradFn = (args) => {
  const { node, dy } = args;
  const x = inputAt(args, 0);
  const spatial = [...Array(x.rank - 2).keys()].map((i) => i + 2);
  const stats = once(() => standardize(x, spatial, attrOr(node, 'epsilon', 'float', 1e-5)));
  const perChannel = [-1, ...Array<number>(x.rank - 2).fill(1)];
  const notChannel = [0, ...spatial];
  return [
    () => {
      const { xhat, rstd } = stats();
      return standardizeGrad(Mul(dy, Reshape(inputAt(args, 1), perChannel)), xhat, rstd, spatial);
    },
    () => ReduceSum(Mul(dy, stats().xhat), notChannel, false),
    () => ReduceSum(dy, notChannel, false),
  ];
};
