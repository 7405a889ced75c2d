import { Conv } from '../ops/conv.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { convGeometry, convWeightGrad } from './_conv.js';
import { inputAt, type GradFn } from './_rule.js';
import { reshapeTo } from './_util.js';

/**
 * ONNX ConvTranspose is the adjoint of Conv(·, w) with the same geometry, so dx = Conv(dy, w) (the output
 * padding only adds rows that Conv's floor drops again), and ⟨dy, ConvT(x, w)⟩ = ⟨Conv(dy, w), x⟩ makes
 * dw Conv's weight gradient with dy as the input and x as the output cotangent.
 */
export const convTransposeGrad: GradFn = (args) => {
  const { dy, node } = args;
  const [x, w] = [inputAt(args, 0), inputAt(args, 1)];
  const n = x.rank - 2;
  const geo = convGeometry(node, n);
  return [
    () => reshapeTo(Conv(dy, w, undefined, geo), x),
    () => convWeightGrad(dy, x, w, geo),
    () => ReduceSum(dy, [0, ...[...Array(n).keys()].map((i) => i + 2)], false),
  ];
};
