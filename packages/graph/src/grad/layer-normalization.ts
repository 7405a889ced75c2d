import { Mul } from '../ops/mul.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import type { Value } from '../value.js';
import { standardize, standardizeGrad } from './_normalize.js';
import { inputAt, once, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/**
 * ONNX LayerNormalization, y = x̂·scale + bias over axes [axis, rank). The node was built with one output,
 * so mean and 1/σ are recomputed (cheap next to the matmuls around every LayerNorm).
 */
export const layerNormalizationGrad: GradFn = (args) => {
  const { node, dy } = args;
  const x = inputAt(args, 0);
  const axis = attrOr(node, 'axis', 'int', -1);
  const first = axis < 0 ? axis + x.rank : axis;
  const axes = [...Array(x.rank - first).keys()].map((i) => first + i);
  const lead = [...Array(first).keys()];
  const stats = once(() => standardize(x, axes, attrOr(node, 'epsilon', 'float', 1e-5)));
  // Summing over the leading (batch) axes gives the parameter's normalized shape; no leading axes, nothing to sum.
  const overLead = (v: Value): Value => (lead.length > 0 ? ReduceSum(v, lead, false) : v);
  return [
    () => {
      const { xhat, rstd } = stats();
      return standardizeGrad(Mul(dy, inputAt(args, 1)), xhat, rstd, axes);
    },
    () => overLead(Mul(dy, stats().xhat)),
    () => overLead(dy),
  ];
};
